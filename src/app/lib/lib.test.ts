import { describe, expect, it } from 'vitest';
import { defaultOptions, type CaptionOptions } from '../../core/options';
import { sampleManifest } from '../../core/bundle/fake-bundle.testutil';
import { describeError, ERROR_TEXT } from './errors';
import { exportFileName, toExport, toJson, toMarkdown, toText } from './export';
import { formatBytes, formatMs, formatTime } from './format';
import { isQuotaError, StorageFullError } from './idb';
import { buildCommandFor, PRESETS } from './presets';
import { backendReason } from './backend';
import type { RunRecord } from './run-record';
import { buildOptions, buildRequest, compareOptions, DEFAULT_SETTINGS, promptPresetOf, PROMPT_PRESETS, sanitizeSettings } from './settings';
import { captionStats, summarizeFlags } from './stats';
import { computePeaks, windowStarts } from './waveform';

const defaults: CaptionOptions = defaultOptions(sampleManifest());

describe('settings → options', () => {
  it('settings left alone follow the bundle: the request names only what the user chose', () => {
    expect(buildRequest(DEFAULT_SETTINGS)).toEqual({ modality: 'av' });
    const o = buildOptions(DEFAULT_SETTINGS, defaults);
    expect(o).toEqual({ ...defaults, modality: 'av' });
    expect(o.maxNewTokens).toBe(sampleManifest().generation.maxNewTokens);
    expect(o.fps).toBe(sampleManifest().sampling.fps);
    expect(o.maxFrames).toBe(sampleManifest().sampling.maxFrames);
    expect(buildRequest({ ...DEFAULT_SETTINGS, maxNewTokens: 20, fps: 2 })).toEqual({ modality: 'av', maxNewTokens: 20, fps: 2 });
    // The checkpoint preset: m = round(110 s · 1 fps) = 110 frames once resolved against the bundle.
    expect(buildRequest({ ...DEFAULT_SETTINGS, sampling: 'checkpoint' })).toEqual({ modality: 'av', sampling: 'checkpoint' });
  });

  it('applies edits, clamps numbers, and builds sampling', () => {
    const o = buildOptions({ ...DEFAULT_SETTINGS, prompt: 'Describe it.', interleave: 'timestamp', fps: 100, maxFrames: 2.6, maxNewTokens: NaN, decoding: 'sample', temperature: 5, topP: 0.5, seed: 3.2, modality: 'v' }, defaults);
    expect(o).toMatchObject({ prompt: 'Describe it.', interleave: 'timestamp', fps: 30, maxFrames: 3, maxNewTokens: defaults.maxNewTokens, modality: 'v' });
    expect(o.decoding).toEqual({ kind: 'sample', temperature: 2, topP: 0.5, seed: 3 });
  });

  it('a blank prompt falls back to the default; presets are recognised', () => {
    expect(buildOptions({ ...DEFAULT_SETTINGS, prompt: '   ' }, defaults).prompt).toBe(defaults.prompt);
    expect(promptPresetOf(null)).toBe('detailed');
    expect(promptPresetOf(PROMPT_PRESETS[1].text)).toBe('summary');
    expect(promptPresetOf('my own')).toBe('custom');
  });

  it('sanitizes persisted settings', () => {
    expect(sanitizeSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(sanitizeSettings({ maxNewTokens: null, fps: 3 })).toMatchObject({ maxNewTokens: null, fps: 3 });
    const s = sanitizeSettings({ fps: '2', maxFrames: 8, modality: 'x', interleave: 'weird', prompt: 7, decoding: 'sample', extra: 1 });
    expect(s.fps).toBe(DEFAULT_SETTINGS.fps);
    expect(s.maxFrames).toBe(8);
    expect(s.modality).toBe('av');
    expect(s.interleave).toBeNull();
    expect(s.prompt).toBeNull();
    expect(s.decoding).toBe('sample');
    expect('extra' in s).toBe(false);
  });

  it('the scene and long-caption settings: the CLI defaults (10 s clips every 5 s), bad values back to them, stride at most the clip', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({ trackSegmentation: 'fixed', longWords: 300, longClipSeconds: 10, longStrideSeconds: 5 });
    expect(sanitizeSettings({ trackSegmentation: 'scenes', longWords: 40, longClipSeconds: 6, longStrideSeconds: 3 })).toMatchObject({ trackSegmentation: 'scenes', longWords: 40, longClipSeconds: 6, longStrideSeconds: 3 });
    expect(sanitizeSettings({ trackSegmentation: 'shots', longWords: 2.5, longClipSeconds: 0 })).toMatchObject({ trackSegmentation: 'fixed', longWords: 300, longClipSeconds: 10, longStrideSeconds: 5 });
    expect(sanitizeSettings({ longClipSeconds: 4, longStrideSeconds: 6 })).toMatchObject({ longClipSeconds: 4, longStrideSeconds: 4 });
  });

  it('compareOptions marks exactly the differing rows', () => {
    const a = buildOptions(DEFAULT_SETTINGS, defaults);
    const b = buildOptions({ ...DEFAULT_SETTINGS, maxNewTokens: 20, decoding: 'sample', seed: 7 }, defaults);
    const rows = compareOptions([a, b], [{ key: 'model', label: 'Model', values: ['m', 'm'] }]);
    expect(rows.filter((r) => r.differs).map((r) => r.key)).toEqual(['maxNewTokens', 'decoding']);
    expect(rows.find((r) => r.key === 'decoding')!.values[1]).toBe('sampling (temperature 0.7, top-p 0.9, seed 7)');
    expect(rows.find((r) => r.key === 'model')!.differs).toBe(false);
    expect(compareOptions([])).toEqual([]);
  });
});

describe('error messages', () => {
  it('every code has a title and advice; unknown codes get a fallback', () => {
    for (const [code, t] of Object.entries(ERROR_TEXT)) {
      expect(t.title.length, code).toBeGreaterThan(3);
      expect(t.advice.length, code).toBeGreaterThan(10);
    }
    expect(new Set(Object.values(ERROR_TEXT).map((t) => t.title)).size).toBe(Object.keys(ERROR_TEXT).length);
    expect(describeError({ code: 'media/empty-file' }).title).toBe('The file is empty');
    expect(describeError({ code: 'nope' as never }).title).toBe('Unexpected error');
    expect(describeError(null).title).toBe('Unexpected error');
  });
});

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    kind: 'global',
    range: null,
    track: null,
    turns: [],
    id: 'abc-123',
    createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    status: 'done',
    caption: 'A man walks. A man walks.\nVideo Description: birds sing.',
    options: buildOptions(DEFAULT_SETTINGS, defaults),
    model: { name: 'tiny', randomWeights: true, source: '/bundles/tiny/', backends: { decoder_model_merged: 'wasm' }, adapter: null },
    video: { name: 'my clip (1).mp4', bytes: 2048, type: 'video/mp4', duration: 12 },
    thumbnails: [{ timestamp: 0, blob: null }, { timestamp: 1, blob: null }],
    report: null,
    error: null,
    tokensPerSecond: 12.5,
    wallMs: 3400,
    ...over,
  };
}

describe('exports', () => {
  it('JSON carries the run, settings, model, video, metrics and report', () => {
    const r = record();
    const data = JSON.parse(toJson(r, new Date(Date.UTC(2026, 0, 3))));
    expect(data).toMatchObject({ format: 'salmonn-captioner-run', version: 1, exportedAt: '2026-01-03T00:00:00.000Z', caption: r.caption, settings: r.options, model: r.model, video: r.video, report: null });
    expect(data.run).toEqual({ id: 'abc-123', createdAt: '2026-01-02T03:04:05.000Z', status: 'done', tokensPerSecond: 12.5, wallMs: 3400 });
    expect(data.frames).toEqual([{ timestamp: 0 }, { timestamp: 1 }]);
    expect(data.metrics.words).toBe(10);
    expect(data.metrics.flags.map((f: { kind: string }) => f.kind)).toEqual(['header']);
    expect(toExport(r).metrics.repetitionRate).toBeCloseTo(6 / 10, 9);
  });

  it('text and markdown mark partial runs', () => {
    expect(toText(record())).toBe(`${record().caption}\n`);
    expect(toText(record({ status: 'cancelled' }))).toMatch(/^\[cancelled \(partial\)\]\n\n/);
    expect(toText(record({ status: 'error', error: { code: 'media/corrupt', message: 'It is cut off.', details: {} } }))).toMatch(/^\[failed: It is cut off\.\]\n\n/);
    const md = toMarkdown(record({ status: 'error', error: { code: 'media/corrupt', message: 'Broken.', details: {} } }));
    expect(md).toContain('# Caption of my clip (1).mp4');
    expect(md).toContain('> **failed**: Broken.');
    expect(md).toContain('random weights');
    expect(md).toContain('| Repetition rate | 60.0 % |');
    expect(md).toContain('- **Max new tokens:** 64');
    expect(md).not.toMatch(/\n\n\n/);
  });

  it('file names are safe', () => {
    expect(exportFileName(record(), 'json')).toBe('my_clip_1_-abc-123.json');
    expect(exportFileName(record({ video: { ...record().video, name: '.mp4' } }), 'txt')).toBe('caption-abc-123.txt');
  });
});

describe('small helpers', () => {
  it('formats', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(33e9)).toBe('30.7 GB');
    expect(formatTime(75.3, 1)).toBe('1:15.3');
    expect(formatTime(4)).toBe('0:04');
    expect(formatTime(3725)).toBe('1:02:05');
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(12_345)).toBe('12.3 s');
  });

  it('peaks and windows', () => {
    expect(Array.from(computePeaks(new Float32Array([0, 1, -1, 0.5, -0.25, 0.25]), 3))).toEqual([0, 1, -1, 0.5, -0.25, 0.25]);
    expect(Array.from(computePeaks(new Float32Array([0.5, -0.5, 0.2, 0.1]), 1))).toEqual([-0.5, 0.5]);
    expect(windowStarts(12, 30)).toEqual([0]);
    expect(windowStarts(60, 30)).toEqual([0, 30]);
    expect(windowStarts(61, 30)).toEqual([0, 30, 60]);
    expect(windowStarts(0, 30)).toEqual([]);
  });

  it('quota errors are recognised', () => {
    expect(isQuotaError({ name: 'QuotaExceededError' })).toBe(true);
    expect(isQuotaError({ code: 22 })).toBe(true);
    expect(isQuotaError(new Error('x'))).toBe(false);
    expect(new StorageFullError().message).toMatch(/storage .* is full/);
  });

  it('stats and flags', () => {
    const s = captionStats('Audio: a dog. A dog. @@@@ ');
    expect(s.words).toBe(5);
    expect(s.flags.length).toBe(2);
    expect(summarizeFlags(s.flags)).toBe('1 × section header, 1 × odd characters');
    expect(summarizeFlags([])).toBe('none');
    const loop = captionStats(Array.from({ length: 90 }, () => '$uel').join(' '));
    expect(loop).toMatchObject({ words: 90, repetition: 0, loops: 1, loopUnits: [{ unit: 'uel', count: 90 }] });
    expect(summarizeFlags(loop.flags)).toBe('1 × repetition loop');
  });

  it('presets: the tiny test bundle and honest export-required real presets', () => {
    const tiny = PRESETS.find((p) => p.id === 'tiny')!;
    expect(tiny).toMatchObject({ url: '/bundles/tiny/', kind: 'test', exportRequired: false });
    const real = PRESETS.filter((p) => p.kind === 'real');
    expect(real.length).toBeGreaterThan(0);
    for (const p of real) expect(p.exportRequired).toBe(true);
    // A fresh clone has no tiny bundle: the error names the command that builds it.
    expect(buildCommandFor('/bundles/tiny/')).toBe('npm run models:tiny');
    expect(buildCommandFor(real[0].url)).toBeNull();
    expect(buildCommandFor('https://example.org/b/')).toBeNull();
  });

  it('backend reason: why the model runs on WASM', () => {
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallback: true, shaderF16: false, maxBufferSize: 0 };
    const gpu = { ...swiftshader, vendor: 'nvidia', architecture: 'ampere', isFallback: false };
    const wasm = { backends: { vision_encoder: 'wasm', decoder_model_merged: 'wasm' }, adapter: swiftshader, fallbackReasons: [] };
    expect(backendReason({ webgpu: swiftshader, webgpuUnavailableReason: null }, wasm, 'auto')).toBe(
      'WASM, because the only WebGPU adapter is a software fallback (google swiftshader): it computes on the CPU, 20–60× slower than WASM.',
    );
    // The adapter from the probe is used when the ready event carries none.
    expect(backendReason({ webgpu: swiftshader, webgpuUnavailableReason: null }, { ...wasm, adapter: null }, 'auto')).toMatch(/software fallback/);
    expect(backendReason({ webgpu: swiftshader, webgpuUnavailableReason: null }, wasm, 'wasm')).toBe('WASM, because “Force WASM” is on.');
    expect(backendReason({ webgpu: null, webgpuUnavailableReason: 'navigator.gpu is missing' }, { ...wasm, adapter: null }, 'auto')).toBe('WASM, because this browser offers no WebGPU (navigator.gpu is missing).');
    expect(backendReason({ webgpu: gpu, webgpuUnavailableReason: null }, { backends: { d: 'webgpu' }, adapter: gpu, fallbackReasons: [] }, 'auto')).toBeNull();
    expect(backendReason({ webgpu: gpu, webgpuUnavailableReason: null }, null, 'auto')).toBeNull();
  });
});
