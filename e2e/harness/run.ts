/**
 * Helpers for the media specs: drive e2e/harness/media.html (file through the real
 * <input type=file>, decoding in the worker) and pull results back into Node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Page } from '@playwright/test';
import type { SceneReport } from '../../src/core/timed/scenes';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'out');

export interface FixtureFacts {
  container: string;
  duration: number;
  hasVideo: boolean;
  hasAudio: boolean;
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  rotation: number;
  frames: number;
  fps: number | null;
  firstFrame: number | null;
  vfr: boolean;
  audioCodec: string | null;
  audioDuration: number | null;
  audioRate: number | null;
  channels: number | null;
  beeps: { start: number; end: number; freq: number }[];
  long: boolean;
}

export interface FixtureManifest {
  good: string[];
  long: string[];
  broken: Record<string, { browser: string[]; node: string[]; why: string }>;
  facts: Record<string, FixtureFacts>;
}

/** Reads the fixture manifest, making the fixtures first (≈ 10 s) when they are missing. */
export function loadManifest(): FixtureManifest {
  const path = join(FIXTURES, 'manifest.json');
  if (!existsSync(path)) {
    execFileSync('bash', [join(import.meta.dirname, '..', 'fixtures', 'make-fixtures.sh')], { stdio: 'inherit' });
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

export interface HarnessFrame {
  index: number;
  frameIndex: number;
  timestamp: number;
  frameTimestamp: number;
  width: number;
  height: number;
  pixelsWidth: number;
  pixelsHeight: number;
  thumbWidth: number;
  thumbHeight: number;
}

export interface HarnessResult {
  info: {
    name: string;
    container: string;
    duration: number;
    video: null | { codec: string; width: number; height: number; rotation: number; timeline: { frameCount: number; avgFps: number; firstTimestamp: number } };
    audio: null | { codec: string; sampleRate: number; channels: number; firstTimestamp: number; duration: number };
  };
  framePlan: null | { indices: number[]; timestamps: number[]; frameCount: number; avgFps: number; realTime: number; step: number | null };
  audioPlan: null | { totalSamples: number; windows: number[]; sampleRate: number };
  frames: HarnessFrame[];
  windows: { index: number; start: number; length: number; peak: number }[];
  timings: Record<string, number>;
  workerHasOfflineAudioContext: boolean;
  audioPath: string | null;
  /** The audio was decoded in its own worker (the harness's default, as the app). */
  audioInWorker: boolean;
  /** Audio workers made / terminated during the request. */
  audioWorkers: { spawned: number; terminated: number };
  /** What frames() fed to the video decoder and left out (non-reference H.264 pictures). */
  frameStats?: { fed: number; skipped: number };
  /** With `scenes`: the scene report (core/timed/scenes.ts) from the browser's frames. */
  scenes?: SceneReport;
}

export type HarnessOutcome =
  | { status: 'done'; result: HarnessResult; ms: number }
  | { status: 'error'; error: { code: string; message: string; details: Record<string, unknown> }; audioWorkers?: { spawned: number; terminated: number }; ms: number };

/**
 * Opens the harness, gives it the file through the file input and waits for the worker.
 * Vite may reload the page once while it pre-bundles dependencies on first use: then the
 * state is back to 'idle' and the file is given again.
 */
export async function runHarness(
  page: Page,
  file: string,
  opts: { raw?: boolean; timeoutMs?: number; planOnly?: boolean; maxWindows?: number; channel?: 0 | 'mix'; concurrent?: boolean; scenes?: boolean; skipNonReference?: boolean; videoDecoders?: 1 | 2; audioWorker?: boolean; skipFrames?: boolean } = {},
): Promise<HarnessOutcome> {
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto('/e2e/harness/media.html');
    await page.waitForFunction(() => !!window.__media);
    await page.evaluate((o) => (window.__mediaOptions = o), { raw: !!opts.raw, planOnly: opts.planOnly, maxWindows: opts.maxWindows, channel: opts.channel, concurrent: opts.concurrent, scenes: opts.scenes, skipNonReference: opts.skipNonReference, videoDecoders: opts.videoDecoders, audioWorker: opts.audioWorker, skipFrames: opts.skipFrames });
    const t0 = Date.now();
    await page.setInputFiles('#file', isAbsolute(file) ? file : join(FIXTURES, file));
    while (Date.now() < deadline) {
      const st = await page.evaluate(() => window.__media?.status ?? 'idle').catch(() => 'idle');
      if (st === 'done' || st === 'error') {
        const r = await page.evaluate(() => {
          const m = window.__media;
          if (m.status === 'error') return { status: 'error' as const, error: m.error!, audioWorkers: m.audioWorkers };
          // strip the byte arrays (fetched separately)
          const res = m.result as Omit<HarnessResult, 'frames'> & { frames: Record<string, unknown>[]; audio?: unknown };
          const frames = res.frames.map(({ rgb: _r, pixels: _p, thumb: _t, ...rest }) => rest);
          return { status: 'done' as const, result: { ...res, frames, audio: undefined } };
        });
        return { ...r, ms: Date.now() - t0 } as HarnessOutcome;
      }
      if (st === 'idle' && Date.now() - t0 > 3000) break; // page was reloaded: give the file again
      await page.waitForTimeout(100);
    }
    if (Date.now() >= deadline) throw new Error(`harness did not finish ${file} in time (a hang)`);
  }
  throw new Error(`harness never started on ${file}`);
}

/** Bytes of frame i ('rgb' native, 'pixels' size×size, 'thumb') or of the audio. */
export async function fetchBytes(page: Page, what: 'rgb' | 'pixels' | 'thumb' | 'audio', i = 0): Promise<Uint8Array> {
  const b64 = await page.evaluate(
    ([what, i]) => {
      const r = window.__media.result as { frames: Record<string, Uint8Array>[]; audio: Float32Array | null };
      const src = what === 'audio' ? r.audio : r.frames[i as number][what as string];
      if (!src) return '';
      const u8 = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      let s = '';
      for (let k = 0; k < u8.length; k += 0x8000) s += String.fromCharCode(...u8.subarray(k, k + 0x8000));
      return btoa(s);
    },
    [what, i] as const,
  );
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export async function fetchAudio(page: Page): Promise<Float32Array> {
  const b = await fetchBytes(page, 'audio');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Power of `freq` (Goertzel) in consecutive blocks; returns block RMS-normalised magnitudes. */
export function tonePower(x: Float32Array, rate: number, freq: number, block: number): number[] {
  const out: number[] = [];
  const k = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(k);
  for (let s = 0; s + block <= x.length; s += block) {
    let s1 = 0;
    let s2 = 0;
    for (let i = s; i < s + block; i++) {
      const s0 = x[i] + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const p = s1 * s1 + s2 * s2 - c * s1 * s2;
    out.push(Math.sqrt(Math.max(p, 0)) / (block / 2)); // ≈ amplitude of the tone
  }
  return out;
}
