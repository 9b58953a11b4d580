/**
 * The lite family's optional sound tagger on the fixture (npm run models:lite-fixture, ast/):
 * the tags of a real soundtrack per 10-s window, recomputed here from the graph itself; their
 * text pieces at the exact places of the interleave; a bundle without the tagger; and the
 * specific errors for a tagger whose I/O or label count differs from the contract.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNode } from '../../cli/ort-node';
import { FsBundleSource } from '../bundle/fs-source';
import { loadBundle, parseManifest } from '../bundle/load';
import { CaptionError } from '../errors';
import { astInputValues, makeFbankExtractor } from '../features/fbank';
import { openNodeMedia } from '../media/node';
import { planMedia } from '../media/pipeline';
import { resolveOptions } from '../options';
import { readFloat32 } from '../runtime/ort';
import { liteFamily } from './lite';
import type { LiteManifest } from './lite-config';
import { formatSounds, topTags } from './lite-sounds';
import { disposeModel, loadModel } from './load';
import type { EncodedAudio, LoadedModel } from './types';

const FIXTURE = 'public/bundles/lite-fixture';
const VIDEO = 'e2e/fixtures/out/h264_aac.mp4'; // 12 s, frames at 0, 1, …, 11 s
const runtime = { prefer: 'auto' as const, platform: 'node' as const, adapter: null };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary edits of parsed JSON
type Json = Record<string, any>;

describe('sound tags from logits', () => {
  it('sigmoid ≥ threshold, best first (ties by index), at most topK', () => {
    const labels = ['a', 'b', 'c', 'd', 'e'];
    // sigmoid: 0 → 0.5, 2 → 0.8808, −1 → 0.2689, ln(3/7) → exactly 0.3
    const tags = topTags([0, 2, -1, Math.log(3 / 7), 0], labels, 0.3, 3);
    expect(tags.map((t) => t.label)).toEqual(['b', 'a', 'e']);
    expect(tags[0].score).toBeCloseTo(0.8807970779778823, 12);
    expect(topTags([0, 2, -1, Math.log(3 / 7) + 1e-9, 0], labels, 0.3, 9).map((t) => t.label)).toEqual(['b', 'a', 'e', 'd']);
    expect(topTags([-5, -5], ['x', 'y'], 0.3, 2)).toEqual([]);
  });

  it('writes "[{start}–{end} s] Sounds: {labels}" with times to 0.1 s', () => {
    expect(formatSounds('[{start}–{end} s] Sounds: {labels}', 10, 12.04, ['Dog', 'Bark'])).toBe('[10.0–12.0 s] Sounds: Dog, Bark');
  });
});

describe('the sound tagger on the fixture', () => {
  let model: LoadedModel;
  let audio: EncodedAudio;
  let samples: Float32Array;

  beforeAll(async () => {
    model = await loadModel(ortNode(), await loadBundle(new FsBundleSource(FIXTURE)), runtime);
    const media = await openNodeMedia(resolve(VIDEO));
    try {
      const plan = planMedia(media.info, { fps: 1, maxFrames: 32, minFrames: 1, rule: 'checkpoint' }, model.manifest.audio);
      for await (const w of media.audioWindows(plan.audio!, { channel: 0 })) samples = w.samples.slice();
      audio = await liteFamily.encodeAudio(model, media, plan.audio!, 0, () => undefined);
    } finally {
      media.close();
    }
  }, 120_000);
  afterAll(() => disposeModel(model));

  it('tags each 10-s window (0–10 s, 10–12 s) with what the graph itself gives for those samples', async () => {
    const s = (model.manifest as LiteManifest).lite.sounds!;
    expect(samples.length).toBe(12 * 16000);
    expect(audio.sounds!.map((w) => [w.start, w.end])).toEqual([[0, 10], [10, 12]]);
    // recompute: fbank of exactly those samples → the tagger session → sigmoid → top labels
    const ex = makeFbankExtractor(s);
    const session = model.sessions.sound_tagger;
    for (const [i, [a, b]] of [[0, 160_000], [160_000, 192_000]].entries()) {
      const input = astInputValues(ex, samples.subarray(a, b));
      const res = await session.run({ input_values: new model.ort.Tensor('float32', input, [1, 1024, 128]) });
      const logits = await readFloat32(res.logits);
      const want = Array.from(logits, (l, k) => ({ label: s.labels[k], score: 1 / (1 + Math.exp(-l)) }))
        .filter((t) => t.score >= s.threshold)
        .sort((x, y) => y.score - x.score)
        .slice(0, s.topK);
      expect(want.length).toBeGreaterThan(0);
      expect(audio.sounds![i].labels.map((t) => t.label)).toEqual(want.map((t) => t.label));
      audio.sounds![i].labels.forEach((t, k) => expect(t.score).toBeCloseTo(want[k].score, 6));
    }
    // the two windows hear different audio (10 s of sound vs 2 s + padding) and say so
    expect(audio.sounds![0].labels).not.toEqual(audio.sounds![1].labels);
  });

  it('places each window\'s piece after the frames shown by its start, transcript lines first at equal times: the exact token layout', () => {
    const sounds = audio.text.filter((p) => p.role === 'sounds');
    const words = (i: number) => audio.sounds![i].labels.map((t) => t.label);
    expect(sounds.map((p) => model.tokenizer.decode(p.ids))).toEqual([
      `[0.0–10.0 s] Sounds: ${words(0).join(', ')}`,
      `[10.0–12.0 s] Sounds: ${words(1).join(', ')}`,
    ]);
    const frameTimes = Array.from({ length: 12 }, (_, i) => i);
    const options = resolveOptions(model.manifest, {});
    const layout = liteFamily.layout(model, { use: { video: true, audio: true }, frameTimes, audio, duration: 12, options });
    // expected: frame f's 196 visual rows, then every piece whose time t has ⌊t⌋ = f, in time order
    const pieces = [...audio.text].sort((a, b) => a.time - b.time);
    const expected: unknown[] = [];
    for (const f of frameTimes) {
      expected.push({ kind: 'visual', frame: f, start: f * 196, count: 196 });
      for (const p of pieces.filter((q) => Math.floor(q.time) === f)) expected.push({ kind: 'text', ids: p.ids, count: p.ids.length, role: p.role });
    }
    expect(layout.segments).toEqual(expected);
    const soundAt = layout.segments.flatMap((seg, k) => (seg.kind === 'text' && seg.role === 'sounds' ? [k] : []));
    expect(soundAt[0]).toBe(1); // right after frame 0, before the first transcript line (0.7 s)
    expect(soundAt[1]).toBe(layout.segments.findIndex((seg) => seg.kind === 'visual' && seg.frame === 10) + 1);
  });
});

describe('sound tagger contract', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lite-sounds-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function variant(name: string, edit: (m: Json) => void, rename?: { from: string; to: string }): string {
    const out = join(dir, name);
    cpSync(FIXTURE, out, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8')) as Json;
    if (rename) {
      const path = join(out, 'ast/onnx/model.onnx');
      const text = readFileSync(path).toString('latin1');
      expect(text.includes(rename.from)).toBe(true);
      const bytes = Buffer.from(text.split(rename.from).join(rename.to), 'latin1');
      writeFileSync(path, bytes);
      manifest.graphs.sound_tagger.sha256 = createHash('sha256').update(bytes).digest('hex');
      manifest.graphs.sound_tagger.bytes = bytes.length;
    }
    edit(manifest);
    writeFileSync(join(out, 'bundle.json'), JSON.stringify(manifest));
    return out;
  }

  const loadErr = async (path: string, warmUp = true) => {
    const bundle = await loadBundle(new FsBundleSource(path));
    return loadModel(ortNode(), bundle, { ...runtime, warmUp }).then(async (m) => {
      await disposeModel(m);
      return null;
    }, (e: unknown) => e);
  };

  it('a bundle without the tagger still loads and tags nothing (the graph is optional)', async () => {
    const out = variant('none', (m) => {
      delete m.graphs.sound_tagger;
      delete m.lite.sounds;
    });
    const bundle = await loadBundle(new FsBundleSource(out));
    expect(bundle.graphs).not.toContain('sound_tagger');
    const model = await loadModel(ortNode(), bundle, runtime);
    try {
      expect(model.sessions.sound_tagger).toBeUndefined();
      const media = await openNodeMedia(resolve(VIDEO));
      const plan = planMedia(media.info, { fps: 1, maxFrames: 32, minFrames: 1, rule: 'checkpoint' }, model.manifest.audio);
      const audio = await liteFamily.encodeAudio(model, media, plan.audio!, 0, () => undefined);
      media.close();
      expect(audio.sounds).toBeUndefined();
      expect(audio.text.length).toBeGreaterThan(0);
      expect(audio.text.every((p) => p.role === 'transcript')).toBe(true);
    } finally {
      await disposeModel(model);
    }
  }, 120_000);

  it('a tagger whose output is not named logits ends in bundle/graph-contract naming the graph and its own output', async () => {
    const err = await loadErr(variant('renamed', () => undefined, { from: 'logits', to: 'logitz' }), false);
    expect(err).toBeInstanceOf(CaptionError);
    expect((err as CaptionError).code).toBe('bundle/graph-contract');
    expect((err as CaptionError).message).toMatch(/The graph "sound_tagger" has no output "logits" \(port logits\).*its outputs are logitz/);
  });

  it('a label list that does not match the logits ends in a graph-contract error naming both shapes', async () => {
    const err = await loadErr(variant('labels', (m) => {
      m.lite.sounds.labels = m.lite.sounds.labels.slice(0, 500);
    }));
    expect((err as CaptionError).code).toBe('bundle/graph-contract');
    expect((err as CaptionError).message).toMatch(/"sound_tagger" returned "logits" of shape \[1, 527\] for input \[1, 1024, 128\]; the lite family expects \[1, 500\]/);
  });

  it('refuses lite.sounds without the graph, and a tagger without lite.sounds', () => {
    const m = JSON.parse(readFileSync(join(FIXTURE, 'bundle.json'), 'utf8')) as Json;
    const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const noGraph = structuredClone(m);
    delete noGraph.graphs.sound_tagger;
    expect(() => parseManifest(bytes(noGraph))).toThrow(/"lite\.sounds" must be absent: the bundle has no graphs\.sound_tagger to use it/);
    const noSounds = structuredClone(m);
    delete noSounds.lite.sounds;
    expect(() => parseManifest(bytes(noSounds))).toThrow(/"lite\.sounds" must be an object/);
    const badThreshold = structuredClone(m);
    badThreshold.lite.sounds.threshold = 1.5;
    expect(() => parseManifest(bytes(badThreshold))).toThrow(/"lite\.sounds\.threshold" must be a probability between 0 and 1/);
  });
});
