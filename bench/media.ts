/**
 * Media ingestion bench (`npx tsx bench/media.ts [file]`, meant for `npm run bench`).
 *
 * For a 10-minute 720p H.264/AAC file (made by `make-fixtures.sh --bench` when missing):
 * time to plan + extract the planned 30 frames + decode all audio to 16 kHz mono,
 *   (a) the app's path: mediabunny + WebCodecs in a Web Worker (e2e/harness/media-worker.ts; the
 *       audio in a worker of its own),
 *       with the audio decoded while the frames are (audioWindows and frames at once; the
 *       headline) and, for comparison, one after the other,
 *   (b) the classic path on the main thread: <video> seek + canvas, decodeAudioData +
 *       OfflineAudioContext resampling,
 *   (c) the Node path: ffprobe + ffmpeg (src/core/media/node.ts),
 * reported from the same run as a ratio, with peak memory: the browser's whole process
 * tree RSS (from /proc) per phase, the page's JS heap (performance.memory), Node's RSS.
 * The app's path runs a third time one after the other with every H.264 packet fed
 * and one video decoder (skipNonReference false, videoDecoders 1: the path as it was) to
 * measure the non-reference skip and the two decoders, and a fourth time frames ∥ audio with
 * the audio on the media worker's own thread (no audio worker: OpenOptions.audioWorker
 * unset) to measure the audio worker. Writes .test-output/bench-media.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { treeRss } from './proc';
import { openNodeMedia } from '../src/core/media/node';
import { planMedia } from '../src/core/media/pipeline';

const ROOT = resolve(import.meta.dirname, '..');
const file = resolve(process.argv[2] ?? join(ROOT, 'e2e/fixtures/out/bench720p10min.mp4'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PORT = Number(process.env.BENCH_PORT ?? 5198);

if (!existsSync(file)) {
  console.log(`${file} is missing: making it (bash e2e/fixtures/make-fixtures.sh --bench)…`);
  execFileSync('bash', [join(ROOT, 'e2e/fixtures/make-fixtures.sh'), '--bench'], { stdio: 'inherit' });
}

interface VideoRun {
  ms: number;
  frames: number;
  audio: number;
  audioSplit: { read: number; decodeAudioData: number; render: number };
}

const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));

const mb = (b: number | null | undefined) => (b == null ? null : Math.round((b / 2 ** 20) * 10) / 10);

/** One <video> run of the report: times rounded to ms, the peak RSS of its phase in MB. */
const videoReport = (v: VideoRun, rssPeak: number) => ({
  ms: Math.round(v.ms),
  framesMs: Math.round(v.frames),
  audioMs: Math.round(v.audio),
  audioSplitMs: round(v.audioSplit),
  browserRssPeakMB: mb(rssPeak),
});

async function main() {
  const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1' } });
  await server.listen();
  const browserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
  const pid = browserServer.process().pid!;
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const samples: { t: number; rss: number }[] = [];
  const timer = setInterval(() => samples.push({ t: Date.now(), rss: treeRss(pid) }), 100);
  const peak = (a: number, b: number) => Math.max(0, ...samples.filter((s) => s.t >= a && s.t <= b).map((s) => s.rss));
  try {
    const run = async (hash: string) => {
      // a context of its own: its renderer (and memory) goes when it is closed
      const context = await browser.newContext();
      const page = await context.newPage();
      const url = `http://127.0.0.1:${PORT}/e2e/harness/media-bench.html${hash}`;
      // warm-up: Vite transforms + dependency pre-bundling must not count
      await page.goto(url);
      await page.reload();
      await page.waitForFunction(() => !!window.__bench);
      await page.waitForTimeout(1000);
      const baseline = treeRss(pid);
      await page.setInputFiles('#file', file);
      await page.waitForFunction(() => window.__bench.status === 'done' || window.__bench.status === 'error', null, { timeout: 600_000 });
      const bench = await page.evaluate(() => window.__bench);
      await context.close();
      if (bench.status !== 'done') throw new Error(`bench page failed: ${bench.error}`);
      return { result: bench.result, baseline };
    };
    // the <video> path first, alone, then the worker runs and the <video> path again after them
    const t1 = Date.now();
    const first = (await run('#video-first')).result as { videoElementFirst: VideoRun };
    const firstPeak = peak(t1, Date.now());
    await new Promise((r) => setTimeout(r, 1000));
    const { result, baseline: baselineRss } = await run('');
    const r = { ...(result as object), videoElementFirst: first.videoElementFirst } as {
      frames: number;
      bytes: number;
      mediabunny: { ms: number; timings: Record<string, number>; pageHeapPeak: number | null; audioPath: string | null };
      sequential: { ms: number; timings: Record<string, number>; pageHeapPeak: number | null; frameStats: { fed: number; skipped: number } | null };
      noSkip: { ms: number; timings: Record<string, number>; frameStats: { fed: number; skipped: number } | null };
      inThreadAudio: { ms: number; timings: Record<string, number> };
      oneDecoder: { ms: number; timings: Record<string, number> };
      videoElement: VideoRun & { pageHeapPeak: number | null };
      videoElementFirst: VideoRun;
      videoElementNativeRate: VideoRun & { decodeRate: number };
      phases: Record<string, number>;
    };

    // (c) Node: ffprobe + ffmpeg
    const n0 = performance.now();
    let nodePeak = process.memoryUsage().rss;
    const src = await openNodeMedia(file);
    const plan = planMedia(src.info, { fps: 1, maxFrames: 30, minFrames: 2 }, { sampleRate: 16000, windowSeconds: 30 });
    const tPlan = performance.now() - n0;
    let frames = 0;
    for await (const _ of src.frames(plan.frames!)) {
      frames++;
      nodePeak = Math.max(nodePeak, process.memoryUsage().rss);
    }
    const tFrames = performance.now() - n0 - tPlan;
    let windows = 0;
    for await (const _ of src.audioWindows(plan.audio!)) {
      windows++;
      nodePeak = Math.max(nodePeak, process.memoryUsage().rss);
    }
    const nodeMs = performance.now() - n0;

    const videoMin = Math.min(r.videoElement.ms, r.videoElementFirst.ms, r.videoElementNativeRate.ms);
    const report = {
      file,
      bytes: r.bytes,
      duration: src.info.duration,
      frames: r.frames,
      audioWindows: windows,
      browserRssBaselineMB: mb(baselineRss),
      mediabunnyWorker: {
        ms: Math.round(r.mediabunny.ms),
        audioPath: r.mediabunny.audioPath,
        stages: round(r.mediabunny.timings),
        browserRssPeakMB: mb(peak(r.phases.workerStart, r.phases.workerEnd)),
        pageHeapPeakMB: mb(r.mediabunny.pageHeapPeak),
      },
      mediabunnyWorkerSequential: {
        ms: Math.round(r.sequential.ms),
        stages: round(r.sequential.timings),
        browserRssPeakMB: mb(peak(r.phases.seqStart, r.phases.seqEnd)),
        pageHeapPeakMB: mb(r.sequential.pageHeapPeak),
        frameStats: r.sequential.frameStats,
      },
      mediabunnyWorkerSequentialNoSkip: {
        ms: Math.round(r.noSkip.ms),
        stages: round(r.noSkip.timings),
        frameStats: r.noSkip.frameStats,
      },
      mediabunnyWorkerInThreadAudio: {
        ms: Math.round(r.inThreadAudio.ms),
        stages: round(r.inThreadAudio.timings),
      },
      mediabunnyWorkerOneDecoder: {
        ms: Math.round(r.oneDecoder.ms),
        stages: round(r.oneDecoder.timings),
      },
      videoElementMainThread: { ...videoReport(r.videoElement, peak(r.phases.videoStart, r.phases.videoEnd)), pageHeapPeakMB: mb(r.videoElement.pageHeapPeak) },
      videoElementFirst: videoReport(r.videoElementFirst, firstPeak),
      videoElementNativeRate: { decodeRate: r.videoElementNativeRate.decodeRate, ...videoReport(r.videoElementNativeRate, peak(r.phases.videoNativeStart, r.phases.videoNativeEnd)) },
      // against the fastest of the three <video> runs (before the worker runs, after them, and
      // decoding at the file's rate)
      ratioVideoElementOverMediabunny: Math.round((videoMin / r.mediabunny.ms) * 100) / 100,
      ratioVideoElementOverSequential: Math.round((videoMin / r.sequential.ms) * 100) / 100,
      ratioVideoElementOverOneDecoder: Math.round((videoMin / r.oneDecoder.ms) * 100) / 100,
      ratioVideoElementOverInThreadAudio: Math.round((videoMin / r.inThreadAudio.ms) * 100) / 100,
      realTimeFraction: Math.round((r.mediabunny.ms / 1000 / src.info.duration) * 10000) / 10000,
      nodeFfmpeg: { ms: Math.round(nodeMs), planMs: Math.round(tPlan), framesMs: Math.round(tFrames), frames, nodeRssPeakMB: mb(nodePeak) },
    };
    console.log(JSON.stringify(report, null, 2));
    mkdirSync(join(ROOT, '.test-output'), { recursive: true });
    writeFileSync(join(ROOT, '.test-output/bench-media.json'), JSON.stringify(report, null, 2));
  } finally {
    clearInterval(timer);
    await browser.close();
    await browserServer.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
