/**
 * The CLI end to end: a real mp4 decoded by ffmpeg, the tiny bundle on onnxruntime-node,
 * against the PyTorch goldens; human and JSON output; exit codes for bad input and bad
 * bundles.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaptionReport } from '../core/report';
import type { Golden } from '../core/testing/golden';
import { loadTokenizer } from '../core/model/prompt';
import { parseCues } from '../core/timed/track';
import { clipPrompt, lengthScore, type LongCaptionResult } from '../core/timed/long-caption';
import { repetitionRate, wordCount } from '../core/metrics/text';

type LongReport = Omit<LongCaptionResult, never> & { targetWords: number; clipSeconds: number; strideSeconds: number; contextTokens: number; merges: { level: number; start: number; end: number; promptTokens: number; caption: string }[] };
const SCENES = 'e2e/fixtures/out/scenes.mp4'; // make-fixtures.sh
const VIDEO12 = 'e2e/fixtures/out/h264_aac.mp4'; // 12 s

const TINY = 'public/bundles/tiny';
const FIXTURE = join(TINY, 'golden/fixture.mp4');
const golden = JSON.parse(readFileSync(join(TINY, 'golden.json'), 'utf8')) as Golden;
const fixtureCase = golden.cases.find((c) => c.source.kind === 'ffmpeg-fixture')!;
const tmp = mkdtempSync(join(tmpdir(), 'caption-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function caption(...args: string[]) {
  return captionWithin(120_000, ...args);
}

/** Multi-step runs (a track, a long caption) make many requests: a longer guard. */
function captionWithin(timeout: number, ...args: string[]) {
  const r = spawnSync('node', ['--import', 'tsx', 'src/cli/caption.ts', ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run caption', () => {
  const modes: [string, string[]][] = [
    ['audio-video/spread', ['--mode', 'av', '--interleave', 'spread']],
    ['audio-video/timestamp', ['--mode', 'av', '--interleave', 'timestamp']],
    ['video/any', ['--mode', 'v']],
    ['audio/any', ['--mode', 'a']],
  ];
  for (const [name, flags] of modes) {
    it(`--json ${name} on an ffmpeg-decoded mp4 equals the PyTorch reference`, () => {
      // The CLI's defaults are the released checkpoint's run set-up: the golden setup runs (official prompt, time tokens).
      const run = fixtureCase.setupRuns!.find((r) => `${r.modality}/${r.interleave}` === name && r.setup.sampling === 'paper' && r.setup.repetitionPenalty === 1)!;
      const r = caption(FIXTURE, '--json', '--max-new-tokens', String(golden.maxNewTokens), ...flags);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as CaptionReport;
      expect(report.video).toMatchObject({ name: 'fixture.mp4', duration: 5, hasAudio: true, hasVideo: true, videoCodec: 'avc', audioCodec: 'aac' });
      const audioUsed = name !== 'video/any';
      expect(report.audio).toEqual({ sampleRate: 16000, samples: audioUsed ? 80000 : 0, windows: audioUsed ? 1 : 0, used: audioUsed });
      if (name !== 'audio/any') expect(report.frames).toEqual(fixtureCase.frameIndices.map((index, i) => ({ index, timestamp: fixtureCase.timestamps[i] })));
      expect(report.layout.filter((l) => l.frame !== null).map(({ frame, visualTokens, audioTokens, timeTokens }) => ({ frame, visualTokens, audioTokens, timeTokens }))).toEqual(
        run.layout.map(({ frame, visualTokens, audioTokens, timeTokens }) => ({ frame, visualTokens, audioTokens, timeTokens: timeTokens ? timeTokens.ids.length + timeTokens.zeroRows : undefined })),
      );
      expect(report.promptTokenIds).toEqual(run.promptTokenIds);
      expect(report.promptTokens).toBe(run.promptLength);
      expect(report.generatedTokenIds).toEqual(run.generated.ids);
      expect(Object.values(report.backend)).toEqual(['cpu', 'cpu', 'cpu', 'cpu', 'cpu']);
      for (const stage of ['decode', 'vision', 'audio', 'prefill', 'generate'] as const) expect(report.timings[stage]).toBeGreaterThanOrEqual(0);
    });
  }

  it('--ask: follow-up questions reuse the caption\'s KV cache and prefill only their own turn', () => {
    const r = caption(FIXTURE, '--json', '--max-new-tokens', '6', '--ask', 'What is heard?', '--ask', 'And seen?');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as CaptionReport & { turns: import('../core/report').TurnReport[] };
    expect(report.turns.map((t) => t.question)).toEqual(['What is heard?', 'And seen?']);
    const [t1, t2] = report.turns;
    // The cache holds the prompt and the answer (its last token, and <|im_end|> when it hit the limit, fed before the turn).
    const closed = (stop: string) => (stop === 'stop-token' ? 0 : 1);
    expect(t1.reusedTokens).toBe(report.promptTokens + report.generatedTokenIds.length + closed(report.stopReason));
    expect(t2.reusedTokens).toBe(t1.reusedTokens + t1.prefillTokens + t1.generatedTokenIds.length + closed(t1.stopReason));
    // The new turn only: "\n<|im_start|>user\nWhat is heard?<|im_end|>\n<|im_start|>assistant\n".
    const tok = loadTokenizer(JSON.parse(readFileSync(join(TINY, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(TINY, 'tokenizer_config.json'), 'utf8')));
    const turn = tok.encode('\n<|im_start|>user\nWhat is heard?<|im_end|>\n<|im_start|>assistant\n', { add_special_tokens: false }).ids;
    expect(turn.slice(0, 4)).toEqual([198, 151644, 872, 198]);
    expect(t1.prefillTokens).toBe(turn.length);
    expect(t1.generatedTokenIds.length).toBeGreaterThan(0);
  });

  it('--range: a local caption of 1–3 s of the 5 s, 10 fps mp4 (frames only from the range, audio from its start)', () => {
    const r = caption(FIXTURE, '--json', '--max-new-tokens', '4', '--range', '1-3');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as CaptionReport;
    expect(report.range).toEqual({ start: 1, end: 3 });
    // Frames 10…29 lie in [1, 3); step round(10 fps / 1) = 10 → 10 and 20, at 1 s and 2 s.
    expect(report.frames).toEqual([{ index: 10, timestamp: 1 }, { index: 20, timestamp: 2 }]);
    expect(report.audio).toMatchObject({ samples: 32_000, windows: 1 });
  });

  it('--track: cues in order, without overlap, covering the video, written as WebVTT and SRT that parse back', () => {
    const vtt = join(tmp, 'track.vtt');
    const srt = join(tmp, 'track.srt');
    const r = caption(FIXTURE, '--json', '--max-new-tokens', '3', '--track', '2', '--vtt', vtt, '--srt', srt);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { track: { seconds: number; cues: { start: number; end: number; text: string }[] }; segments: CaptionReport[] };
    // 5 s in 2 s segments: [0,2) [2,4) [4,5) (the 1 s tail ≥ 2/4 keeps its own cue).
    expect(out.track.cues.map((c) => [c.start, c.end])).toEqual([[0, 2], [2, 4], [4, 5]]);
    expect(out.segments.map((s) => s.range)).toEqual([{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 5 }]);
    expect(out.segments.every((s) => s.frames.every((f) => f.timestamp >= s.range!.start && f.timestamp < s.range!.end))).toBe(true);
    for (const file of [vtt, srt]) {
      const back = parseCues(readFileSync(file, 'utf8'));
      expect(back.map((c) => [c.start, c.end])).toEqual([[0, 2], [2, 4], [4, 5]]);
      expect(back.map((c) => c.text)).toEqual(out.track.cues.map((c) => c.text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).join('\n') || '…'));
    }
    expect(readFileSync(vtt, 'utf8').startsWith('WEBVTT\n')).toBe(true);
  });

  it('--track scenes: segments cut at the scene changes of an ffmpeg-made video, as cues and WebVTT', () => {
    const vtt = join(tmp, 'scenes.vtt');
    const r = captionWithin(230_000, SCENES, '--json', '--max-new-tokens', '2', '--track', 'scenes', '--vtt', vtt);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { track: { scenes: { cuts: { time: number }[]; segments: unknown[] }; cues: { start: number; end: number }[] }; segments: CaptionReport[] };
    // make-fixtures.sh: cuts at 3, 7, 9.5 and 10.5 s; 9.5–10.5 is under the 2 s minimum, so 10.5 starts no segment.
    expect(out.track.scenes.cuts.map((c) => c.time)).toEqual([3, 7, 9.5, 10.5]);
    const spans = [[0, 3], [3, 7], [7, 9.5], [9.5, 13]];
    expect(out.track.cues.map((c) => [c.start, c.end])).toEqual(spans);
    expect(out.segments.map((s) => [s.range!.start, s.range!.end])).toEqual(spans);
    expect(parseCues(readFileSync(vtt, 'utf8')).map((c) => [c.start, c.end])).toEqual(spans);
    expect(r.stderr).toMatch(/4 scene cuts, 4 segments/);
  }, 240_000);

  it('--long: clip captions in order with the previous one as context, merged; words, length score, repetition rate, merge levels', () => {
    const r = captionWithin(230_000, VIDEO12, '--json', '--max-new-tokens', '6', '--long', '50', '--clip', '6', '--stride', '3');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { long: LongReport; segments: CaptionReport[] };
    const { long } = out;
    expect(long).toMatchObject({ targetWords: 50, clipSeconds: 6, strideSeconds: 3, contextTokens: 32768 - 6, mergeLevels: [1] });
    // 12 s in 6 s clips every 3 s, by hand: 0–6, 3–9, 6–12.
    const spans = [{ start: 0, end: 6 }, { start: 3, end: 9 }, { start: 6, end: 12 }];
    expect(long.clips.map(({ start, end }) => ({ start, end }))).toEqual(spans);
    expect(out.segments.map((s) => s.range)).toEqual(spans);
    expect(out.segments.map((s) => s.options.prompt)).toEqual(long.clips.map((_, i) => clipPrompt(i ? long.clips[i - 1].caption : null)));
    expect(out.segments.map((s) => s.caption)).toEqual(long.clips.map((c) => c.caption));
    expect(long.merges).toEqual([{ level: 0, start: 0, end: 12, promptTokens: expect.any(Number) as unknown, caption: long.caption }]);
    expect(long.words).toBe(wordCount(long.caption));
    expect(long.lengthScore).toBe(lengthScore(long.words, 50));
    expect(long.repetitionRate).toBe(repetitionRate(long.caption).rate);
    expect(r.stderr.split('\n').filter((l) => / done$/.test(l))).toEqual(['clip 1/3 (0–6 s) done', 'clip 2/3 (3–9 s) done', 'clip 3/3 (6–12 s) done', 'merge level 1: 1/1 (0–12 s) done']);
  }, 240_000);

  it('--long, Ctrl-C: exits 130 and the JSON report keeps the clips done so far', async () => {
    const child = spawn('node', ['--import', 'tsx', 'src/cli/caption.ts', VIDEO12, '--json', '--max-new-tokens', '6', '--long', '50', '--clip', '4', '--stride', '2']);
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('clip 1/5')) sent = child.kill('SIGINT'); // once: a second Ctrl-C is not a stop request
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code, stderr).toBe(130);
    const { long, segments } = JSON.parse(stdout) as { long: LongReport & { interrupted: string }; segments: CaptionReport[] };
    expect(long.clips.length).toBeGreaterThanOrEqual(1);
    expect(long.clips.length).toBeLessThan(5);
    expect(long.clips[0]).toMatchObject({ start: 0, end: 4 });
    expect(segments.map((s) => s.caption)).toEqual(long.clips.map((c) => c.caption));
    expect(['decode', 'vision', 'audio', 'prefill', 'generate', 'clip']).toContain(long.interrupted);
    expect(stderr).toMatch(new RegExp(`interrupted after ${long.clips.length} of 5 clips`));
  }, 240_000);

  it('streams the caption as text and says the weights are random', () => {
    const json = JSON.parse(caption(FIXTURE, '--json', '--max-new-tokens', '8').stdout) as CaptionReport;
    const r = caption(FIXTURE, '--max-new-tokens', '8');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(json.caption + '\n');
    expect(json.caption.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/random weights/);
  });

  it('exits 2 with the usage on bad arguments', () => {
    const r = caption(FIXTURE, '--mode', 'x');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mode must be one of av, v, a/);
    expect(r.stderr).toMatch(/usage: npm run caption/);
  });

  it.each([
    ['a missing file', () => join(tmp, 'nope.mp4'), /does not exist/],
    ['an empty file', () => (writeFileSync(join(tmp, 'empty.mp4'), ''), join(tmp, 'empty.mp4')), /media\/empty-file/],
    ['a text file named .mp4', () => (writeFileSync(join(tmp, 'notes.mp4'), 'just some notes, not a video\n'.repeat(20)), join(tmp, 'notes.mp4')), /media\/not-a-video/],
  ])('exits 3 on %s', (_what, make, message) => {
    const r = caption(make(), '--json');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(JSON.parse(r.stdout).error.code).toMatch(/^media\//);
  });

  it('exits 4 when the bundle is missing or a graph is corrupt, naming the file', () => {
    const missing = caption(FIXTURE, '--bundle', join(tmp, 'no-bundle'));
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/bundle\/not-found/);

    const bad = join(tmp, 'bad-bundle');
    cpSync(TINY, bad, { recursive: true });
    const graph = join(bad, 'onnx/vision_encoder.onnx');
    const bytes = readFileSync(graph);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(graph, bytes);
    const corrupt = caption(FIXTURE, '--bundle', bad);
    expect(corrupt.code).toBe(4);
    expect(corrupt.stderr).toMatch(/bundle\/integrity/);
    expect(corrupt.stderr).toMatch(/vision_encoder\.onnx/);
  });
});
