/**
 * The lite family end to end on its contract-identical fixture (npm run models:lite-fixture):
 * bundle.json served over HTTP with every file at an absolute URL, as the preset over the
 * public exports is, loaded through the same URL loader; frames, Whisper transcript pieces in
 * time order, a streamed caption; the CLI on the same folder; and the specific errors for a
 * graph whose I/O or shape differs from the contract.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNode } from '../../cli/ort-node';
import { FsBundleSource } from '../bundle/fs-source';
import { loadBundle, parseManifest } from '../bundle/load';
import { UrlBundleSource } from '../bundle/url-source';
import { InProcessEngine } from '../engine';
import { CaptionError } from '../errors';
import { openNodeMedia } from '../media/node';
import { planMedia } from '../media/pipeline';
import type { CaptionReport } from '../report';
import { loadModel, disposeModel } from './load';
import type { LoadedModel } from './types';
import { buildLitePromptIds, liteFamily } from './lite';

const FIXTURE = 'public/bundles/lite-fixture';
const VIDEO = 'e2e/fixtures/out/h264_aac.mp4'; // 12 s, 320×240, 30 fps, with an AAC track
/** bundle.json as loose JSON, for edits. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary edits of parsed JSON
type Json = Record<string, any>;

const runtime = { prefer: 'auto' as const, platform: 'node' as const, adapter: null };

let server: Server;
let origin = '';

beforeAll(async () => {
  const root = resolve(FIXTURE);
  const manifest = JSON.parse(readFileSync(join(root, 'bundle.json'), 'utf8')) as Record<string, unknown> & {
    graphs: Record<string, { path: string }>;
    tokenizer: { files: { path: string }[] };
  };
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/preset/bundle.json') {
      // the preset's form: bundle.json in one place, every file at an absolute URL
      const abs = structuredClone(manifest);
      for (const g of Object.values(abs.graphs)) g.path = `${origin}/files/${g.path}`;
      for (const f of abs.tokenizer.files) f.path = `${origin}/files/${f.path}`;
      const speech = (abs.lite as { speech: Record<string, string> }).speech;
      for (const k of ['tokenizerJson', 'tokenizerConfig']) speech[k] = `${origin}/files/${speech[k]}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(abs));
      return;
    }
    if (!path.startsWith('/files/')) return void res.writeHead(404).end();
    try {
      const data = readFileSync(join(root, path.slice('/files/'.length)));
      res.writeHead(200, { 'content-length': data.length }).end(data);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function urlEngine() {
  return new InProcessEngine<string, string>({
    ort: ortNode(),
    platform: 'node',
    source: (url) => new UrlBundleSource(url, { cache: false }),
    openMedia: (path) => openNodeMedia(resolve(path)),
    adapter: async () => null,
  });
}

describe('lite family (llava-onevision-whisper) on the fixture', () => {
  it('captions a real mp4 through the URL loader: 196 pooled tokens per frame, transcript pieces after the frames shown by their time, a streamed caption', async () => {
    const engine = urlEngine();
    try {
      const info = await engine.load(`${origin}/preset/`);
      expect(info.family).toBe('llava-onevision-whisper');
      expect(info.label).toMatch(/not video-SALMONN 2/);
      expect(info.label).not.toMatch(/^video-SALMONN/);
      const { mediaId } = await engine.open(VIDEO);

      // The transcript the family makes of this file's audio, in the order it is spoken.
      const model = engine.loaded!;
      const media = await openNodeMedia(resolve(VIDEO));
      const plan = planMedia(media.info, { fps: 1, maxFrames: 32, minFrames: 1, rule: 'checkpoint' }, model.manifest.audio);
      const audio = await liteFamily.encodeAudio(model, media, plan.audio!, 0, () => undefined);
      media.close();
      expect(audio.features).toBeNull();
      const transcript = audio.text.filter((p) => p.role === 'transcript');
      expect(transcript.length).toBeGreaterThanOrEqual(3);
      const times = transcript.map((p) => p.time);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(times.every((t) => t >= 0 && t < 12)).toBe(true);
      for (const p of transcript) expect(model.tokenizer.decode(p.ids)).toMatch(/^\[\d+\.\d–\d+\.\d s\] Speech: \S/);
      // the sound tagger's pieces: one per 10-s tagger window (0–10 s, 10–12 s), after the transcript lines
      expect(audio.text.slice(transcript.length).map((p) => [p.role, p.time])).toEqual([['sounds', 0], ['sounds', 10]]);

      const deltas: string[] = [];
      const report: CaptionReport = await engine.caption(mediaId, { maxNewTokens: 12 }, { onToken: (d) => deltas.push(d) });
      expect(report.model.family).toBe('llava-onevision-whisper');
      expect(report.frames.map((f) => f.timestamp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(report.layout.every((e) => e.visualTokens === 196 && e.audioTokens === 0)).toBe(true);
      // frames are 1 s apart from 0: a piece at time t follows frame floor(t)
      const expected = new Map<number, number>();
      for (const p of transcript) expected.set(Math.floor(p.time), (expected.get(Math.floor(p.time)) ?? 0) + p.ids.length);
      for (const e of report.layout) expect(e.textTokens?.transcript ?? 0).toBe(expected.get(e.frame!) ?? 0);
      const soundRows = audio.text.filter((p) => p.role === 'sounds').map((p) => p.ids.length);
      expect(report.layout.map((e) => e.textTokens?.sounds ?? 0)).toEqual([soundRows[0], 0, 0, 0, 0, 0, 0, 0, 0, 0, soundRows[1], 0]);
      expect(report.sounds).toEqual(audio.sounds);
      const textRows = audio.text.reduce((n, p) => n + p.ids.length, 0);
      expect(report.promptTokens).toBeGreaterThan(12 * 196 + textRows);
      expect(report.generatedTokenIds.length).toBeGreaterThan(0);
      expect(report.generatedTokenIds.length).toBeLessThanOrEqual(12);
      expect(deltas.join('')).toBe(report.caption);
      expect(report.caption.length).toBeGreaterThan(0);
      expect(Object.values(report.backend).every((b) => b === 'cpu')).toBe(true);

      // A follow-up prefills only the template's own user turn (content-list form) on the kept cache.
      const turn = await engine.ask(mediaId, 'What is said?', { maxNewTokens: 3 });
      const turnText = '<|im_start|>user \nWhat is said?<|im_end|><|im_start|>assistant\n';
      expect(liteFamily.turnText!(model, 'What is said?')).toBe(turnText);
      const closing = report.stopReason === 'stop-token' ? 1 : 2; // the last answer token (+ <|im_end|> when cut off)
      expect(turn.prefillTokens).toBe(model.tokenizer.encode(turnText, { add_special_tokens: false }).ids.length);
      expect(turn.reusedTokens).toBe(report.promptTokens + report.generatedTokenIds.length - 1 + closing);
      expect(turn.generatedTokenIds.length).toBeGreaterThan(0);
    } finally {
      await engine.dispose();
    }
  }, 240_000);

  it('runs in the CLI on the fixture folder (npm run caption -- file --bundle public/bundles/lite-fixture)', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/caption.ts', VIDEO, '--bundle', FIXTURE, '--max-new-tokens', '6', '--json'], { maxBuffer: 1 << 24, timeout: 200_000 });
    const report = JSON.parse(stdout) as CaptionReport;
    expect(report.model.family).toBe('llava-onevision-whisper');
    expect(report.layout).toHaveLength(12);
    expect(report.layout.some((e) => (e.textTokens?.transcript ?? 0) > 0)).toBe(true);
    expect(report.generatedTokenIds.length).toBe(6);
  }, 240_000);
});

describe('lite prompt (LLaVA-OneVision chat template)', () => {
  it('puts the audio-visual block where the template renders <video>: "<|im_start|>user " + block + "\\n" + question', async () => {
    const bundle = await loadBundle(new FsBundleSource(FIXTURE));
    const { loadTokenizer } = await import('../model/prompt');
    const tok = loadTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig);
    const m = bundle.manifest;
    const ids = buildLitePromptIds(tok, m.prompt.chatTemplate, m.prompt.systemPrompt, '<video>', ' What happens? ');
    expect(tok.decode(ids.before, { skip_special_tokens: false })).toBe('<|im_start|>user ');
    expect(tok.decode(ids.after, { skip_special_tokens: false })).toBe('\nWhat happens?<|im_end|><|im_start|>assistant\n');
    expect(ids.before[0]).toBe(151644);
    expect(ids.after).not.toContain(151647); // the <video> placeholder itself is replaced, never embedded
  });

  it('lays out a text-only turn (Engine.complete) with the template\'s text part only: no <video> placeholder', async () => {
    const bundle = await loadBundle(new FsBundleSource(FIXTURE));
    const { loadTokenizer } = await import('../model/prompt');
    const { resolveOptions } = await import('../options');
    const tok = loadTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig);
    const m = bundle.manifest;
    const ids = liteFamily.textPromptIds({ manifest: m, tokenizer: tok } as unknown as LoadedModel, ' Hello world ', resolveOptions(m));
    expect(tok.decode(ids, { skip_special_tokens: false })).toBe('<|im_start|>user \nHello world<|im_end|><|im_start|>assistant\n');
    // By hand: <|im_start|> 151644, "user" 872, " \n" 715, "Hello world" 9707 1879, <|im_end|> 151645, "assistant" 77091, "\n" 198.
    expect(ids).toEqual([151644, 872, 715, 9707, 1879, 151645, 151644, 77091, 198]);
  });
});

describe('lite family contract checks', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lite-contract-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the fixture with `edit` applied to bundle.json and optionally one graph's bytes. */
  function variant(name: string, edit: (m: Json) => void, graph?: { path: string; from: string; to: string }): string {
    const out = join(dir, name);
    cpSync(FIXTURE, out, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8')) as Json;
    if (graph) {
      // same-length rename inside the protobuf: the graph stays valid, its output name changes
      const bytes = readFileSync(join(out, graph.path));
      const text = bytes.toString('latin1');
      expect(text.includes(graph.from)).toBe(true);
      const renamed = Buffer.from(text.split(graph.from).join(graph.to), 'latin1');
      writeFileSync(join(out, graph.path), renamed);
      const entry = Object.values(manifest.graphs as Record<string, { path: string; sha256: string; bytes: number }>).find((g) => g.path === graph.path)!;
      entry.sha256 = createHash('sha256').update(renamed).digest('hex');
      entry.bytes = renamed.length;
    }
    edit(manifest);
    writeFileSync(join(out, 'bundle.json'), JSON.stringify(manifest));
    return out;
  }

  it('a vision_encoder whose output is renamed ends in bundle/graph-contract naming the graph, the declared name and the graph\'s own', async () => {
    const bundle = await loadBundle(new FsBundleSource(variant('renamed', () => undefined, { path: 'onnx/vision_encoder.onnx', from: 'image_features', to: 'image_feature5' })));
    const err = await loadModel(ortNode(), bundle, { ...runtime, warmUp: false }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CaptionError);
    expect((err as CaptionError).code).toBe('bundle/graph-contract');
    expect((err as CaptionError).message).toMatch(/The graph "vision_encoder" has no output "image_features" \(port image_features\).*its outputs are image_feature5/);
  });

  it('a Whisper decoder without the merged cache branch flag is refused the same way', async () => {
    const bundle = await loadBundle(new FsBundleSource(variant('nobranch', () => undefined, { path: 'whisper/onnx/decoder_model_merged.onnx', from: 'use_cache_branch', to: 'use_cache_brunch' })));
    await expect(loadModel(ortNode(), bundle, { ...runtime, warmUp: false })).rejects.toThrow(/The graph "speech_decoder" has no input "use_cache_branch"/);
  });

  it('a vision_encoder whose rows per frame differ from grid² ends in a graph-contract error naming both shapes', async () => {
    const out = variant('grid', (m) => {
      m.vision.grid = 26;
      m.vision.pooledGrid = 13;
      m.vision.tokensPerFrame = 169;
    });
    const bundle = await loadBundle(new FsBundleSource(out));
    const err = await loadModel(ortNode(), bundle, runtime).then(async (m) => {
      await disposeModel(m);
      return null;
    }, (e: unknown) => e);
    expect((err as CaptionError).code).toBe('bundle/graph-contract');
    expect((err as CaptionError).message).toMatch(/"vision_encoder" returned "image_features" of shape \[1, 729, 32\] for 1 frame\(s\); the lite family expects \[1, 676, 32\]/);
  });

  it('refuses a manifest without its lite section, or with a Whisper tokenizer it does not list', () => {
    const m = JSON.parse(readFileSync(join(FIXTURE, 'bundle.json'), 'utf8')) as Json;
    const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(() => parseManifest(bytes({ ...m, lite: undefined }))).toThrow(/"lite\." must be an object/);
    const wrong = structuredClone(m);
    wrong.lite.speech.tokenizerJson = 'whisper/missing.json';
    expect(() => parseManifest(bytes(wrong))).toThrow(/"lite\.speech\.tokenizerJson" must be a path listed in tokenizer\.files/);
    expect(parseManifest(bytes(m)).family).toBe('llava-onevision-whisper');
  });
});
