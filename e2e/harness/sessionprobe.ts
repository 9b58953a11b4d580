/**
 * Bench-only page (`bench/browser-7b.ts BUNDLE --probe GRAPH`): creates ONE session of one graph of a bundle
 * served by URL, with a chosen onnxruntime-web build and a chosen way of handing over the
 * external-data chunks, logging each step with its time — the single-session repro for a
 * stalled load of a large graph (bench/README.md, "The 7B in Chromium").
 */
import type { GraphData } from '../../src/core/bundle/load';
import { countingChunks } from '../../src/core/runtime/sessions';
import { ortWebFor, type OrtBuild } from '../../src/worker/ort-web';

export type ChunkMode = 'blob' | 'url' | 'bytes' | 'blobread' | 'traced' | 'wrapped' | 'pulled' | 'counted';
export interface SessionProbe { base: string; graph: string; ep: 'webgpu' | 'wasm'; build: OrtBuild; mode: ChunkMode; threads?: number; watch?: boolean }

const t0 = performance.now();
const log = (s: string) => console.info(`[progress] +${((performance.now() - t0) / 1000).toFixed(1)}s ${s}`);

async function probe(p: SessionProbe): Promise<Record<string, unknown>> {
  try {
    const manifest = (await (await fetch(new URL('bundle.json', p.base))).json()) as { graphs: Record<string, { path: string; externalData: { path: string; bytes: number }[] }> };
    const entry = manifest.graphs[p.graph];
    const { ort, build } = await ortWebFor(p.ep === 'webgpu', p.build === 'jspi');
    const env = (ort as unknown as { env: { wasm: { numThreads: number } } }).env;
    if (p.threads) env.wasm.numThreads = p.threads;
    if (p.watch) watchPending();
    log(`build ${build}, ${env.wasm.numThreads} wasm threads, crossOriginIsolated ${String(globalThis.crossOriginIsolated)}`);
    const model = new Uint8Array(await (await fetch(new URL(entry.path, p.base))).arrayBuffer());
    const dir = entry.path.slice(0, entry.path.lastIndexOf('/') + 1);
    const externalData: { path: string; data: string | Blob | Uint8Array }[] = [];
    for (const e of entry.externalData) {
      const url = new URL(e.path, p.base).href;
      externalData.push({ path: e.path.slice(dir.length), data: await chunkData(url, e.path, p.mode) });
      log(`chunk ${e.path} (${e.bytes} bytes) as ${p.mode}`);
    }
    if (p.mode === 'blobread') return await readBlobs(externalData.map((e) => e.data as Blob));
    let readFraction = 0;
    const handed = p.mode === 'counted' ? countingChunks(externalData as GraphData['externalData'], (f) => (readFraction = f)) : externalData;
    const ticker = p.mode === 'counted' ? setInterval(() => log(`read ${(readFraction * 100).toFixed(1)} %`), 5000) : undefined;
    log('InferenceSession.create …');
    const ts = performance.now();
    const session = await ort.InferenceSession.create(model, { executionProviders: [p.ep], graphOptimizationLevel: 'all', externalData: handed } as never).finally(() => clearInterval(ticker));
    const createMs = performance.now() - ts;
    log(`created in ${(createMs / 1000).toFixed(1)} s`);
    const r = { ok: true, build, createMs, inputs: session.inputNames.length, outputs: session.outputNames.length };
    await session.release();
    return r;
  } catch (e) {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** One external-data chunk handed over as `mode` says. */
async function chunkData(url: string, name: string, mode: ChunkMode): Promise<string | Blob | Uint8Array> {
  switch (mode) {
    case 'url':
      return url;
    case 'bytes':
      return new Uint8Array(await (await fetch(url)).arrayBuffer());
    case 'traced':
      return tracedBlob(await (await fetch(url)).blob(), name);
    case 'wrapped':
      return new Blob([await (await fetch(url)).blob()]);
    case 'pulled':
      return pulledBlob(await (await fetch(url)).blob());
    case 'blob':
    case 'blobread':
    case 'counted': // the app's route: Blobs wrapped by runtime/sessions.ts countingChunks
      return (await fetch(url)).blob();
  }
}

/** A Blob (a reference to `blob`, no copy) that logs each range onnxruntime-web slices off it: the last one logged before a stall is the read in flight. */
let reads = 0;
let readBytes = 0;
function tracedBlob(blob: Blob, name: string): Blob {
  class Traced extends Blob {
    override slice(start?: number, end?: number, type?: string): Blob {
      reads++;
      readBytes += (end ?? 0) - (start ?? 0);
      log(`read #${reads} ${name} [${start}, ${end}) ${(end ?? 0) - (start ?? 0)} bytes, ${readBytes} so far`);
      return super.slice(start, end, type);
    }
  }
  return new Traced([blob]);
}

/**
 * A Blob whose slices stream their bytes from one `arrayBuffer()` read each (a default
 * ReadableStream, one chunk) instead of Chromium's blob stream read 1 MiB at a time by
 * onnxruntime-web's BYOB reader: the candidate workaround for the stall.
 */
function pulledBlob(blob: Blob): Blob {
  class Slice extends Blob {
    constructor(private readonly part: Blob) {
      super([part]);
    }
    override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
      const part = this.part;
      return new ReadableStream({
        async pull(c) {
          c.enqueue(new Uint8Array(await part.arrayBuffer()));
          c.close();
        },
      });
    }
  }
  class Pulled extends Blob {
    constructor(private readonly whole: Blob) {
      super([whole]);
    }
    override slice(start?: number, end?: number, type?: string): Blob {
      return new Slice(this.whole.slice(start, end, type));
    }
  }
  return new Pulled(blob);
}

/**
 * Counts the promises in flight of each kind that a load awaits (stream reads, GPU work done,
 * buffer maps) and logs the counts every 5 s: after a stall, the kind left pending is the
 * await that never settled. No per-call logging (that changes the timing).
 */
function watchPending(): void {
  const pending: Record<string, number> = {};
  const settled: Record<string, number> = {};
  const wrap = (proto: object | undefined, name: string, label: string) => {
    if (!proto) return;
    const o = proto as Record<string, (...a: unknown[]) => unknown>;
    const orig = o[name];
    if (typeof orig !== 'function') return;
    o[name] = function (this: unknown, ...a: unknown[]) {
      const r = orig.apply(this, a);
      if (!(r instanceof Promise)) return r;
      pending[label] = (pending[label] ?? 0) + 1;
      const done = () => {
        pending[label]--;
        settled[label] = (settled[label] ?? 0) + 1;
      };
      r.then(done, done);
      return r;
    };
  };
  const g = globalThis as unknown as Record<string, { prototype: object } | undefined>;
  wrap(g.ReadableStreamBYOBReader?.prototype, 'read', 'byobRead');
  wrap(g.ReadableStreamDefaultReader?.prototype, 'read', 'defaultRead');
  wrap(g.GPUQueue?.prototype, 'onSubmittedWorkDone', 'workDone');
  wrap(g.GPUBuffer?.prototype, 'mapAsync', 'mapAsync');
  wrap(g.GPUDevice?.prototype, 'popErrorScope', 'popErrorScope');
  wrap(g.GPUDevice?.prototype, 'createComputePipelineAsync', 'pipelineAsync');
  wrap(g.GPUAdapter?.prototype, 'requestDevice', 'requestDevice');
  setInterval(() => log(`pending ${JSON.stringify(pending)} settled ${JSON.stringify(settled)}`), 5000);
}

/** No ORT: each Blob read in slices the way onnxruntime-web's JSPI build reads a tensor (slice → stream → BYOB reader, 1 MiB reads, into one reused buffer). */
async function readBlobs(blobs: Blob[]): Promise<Record<string, unknown>> {
  const step = 256 * 2 ** 20;
  const into = new Uint8Array(step);
  let total = 0;
  for (const [i, blob] of blobs.entries()) {
    for (let at = 0; at < blob.size; at += step) {
      const n = Math.min(step, blob.size - at);
      const reader = blob.slice(at, at + n).stream().getReader({ mode: 'byob' });
      let got = 0;
      let buf = new ArrayBuffer(2 ** 20);
      for (;;) {
        const r = await reader.read(new Uint8Array(buf, 0, buf.byteLength));
        if (r.value) {
          into.set(r.value, got);
          got += r.value.byteLength;
          buf = r.value.buffer as ArrayBuffer;
        }
        if (r.done) break;
      }
      total += got;
      log(`chunk ${i} [${at}, ${at + n}) read ${got} bytes`);
    }
  }
  return { ok: true, total };
}

(globalThis as unknown as { sessionProbe: typeof probe }).sessionProbe = probe;
document.getElementById('status')!.textContent = 'ready';
