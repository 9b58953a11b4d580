/**
 * The browser's audio decode loop (PIPELINE §3), shared by the in-thread path (browser.ts)
 * and the audio worker (audio-worker.ts): mediabunny's packets → one WebCodecs AudioDecoder
 * → AudioStreamAssembler → a bounded queue of 16 kHz windows.
 */
import { AudioSampleSink, EncodedPacketSink, type EncodedPacket, type InputAudioTrack } from 'mediabunny';
import { CaptionError } from '../errors';
import type { AudioPlan } from './plan';
import { decodeError } from './pipeline';
import { AudioStreamAssembler, DecoderClock } from './audio-stream';
import type { AudioChannel, AudioWindow } from './types';
import { concatFloat32 } from '../concat';

/** Chunks queued in the AudioDecoder at most (mediabunny's sink keeps ≤ 8 decoded + 40). */
const MAX_DECODE_QUEUE = 64;
/** AAC access units per decoder chunk when the probe allows it. */
const AAC_GROUP = 16;

/** Consecutive packets as one chunk: their data one after the other, the first one's time. */
function joinPackets(packets: readonly EncodedPacket[]): EncodedAudioChunk {
  let n = 0;
  for (const p of packets) n += p.data.byteLength;
  const data = new Uint8Array(n);
  let o = 0;
  for (const p of packets) {
    data.set(p.data, o);
    o += p.data.byteLength;
  }
  const first = packets[0];
  const last = packets[packets.length - 1];
  return new EncodedAudioChunk({
    type: 'key',
    timestamp: Math.round(first.timestamp * 1e6),
    duration: Math.round((last.timestamp + last.duration - first.timestamp) * 1e6),
    data,
  });
}

/** Every output of a fresh decoder for these chunks, channel 0 one after the other. */
async function decodeAll(config: AudioDecoderConfig, chunks: readonly EncodedAudioChunk[]): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let failed = false;
  const dec = new AudioDecoder({
    output: (d) => {
      const p = new Float32Array(d.numberOfFrames);
      d.copyTo(p, { planeIndex: 0, format: 'f32-planar' });
      parts.push(p);
      d.close();
    },
    error: () => (failed = true),
  });
  try {
    dec.configure(config);
    for (const c of chunks) dec.decode(c);
    await dec.flush();
  } catch {
    failed = true;
  } finally {
    if (dec.state !== 'closed') dec.close();
  }
  return failed ? new Float32Array(0) : concatFloat32(parts);
}

/**
 * Whether this browser's AAC decoder decodes several raw access units given as one chunk
 * exactly as it decodes them one by one. Chromium's (FFmpeg's aac decoder) does: it takes
 * one access unit and goes on with the rest of the chunk, one output per access unit, with
 * the right timestamps — and its fixed cost per chunk is most of the decode time (10-minute
 * file: 2.2–5.3 s one by one, 1.2–2.2 s in groups of 16; `bench/README.md`). A decoder
 * that stopped after the first unit, or decoded differently, fails this check on the
 * file's own first packets, and then every packet goes alone.
 */
async function groupedAacDecodes(config: AudioDecoderConfig, packets: readonly EncodedPacket[]): Promise<boolean> {
  const single = await decodeAll(config, packets.map((p) => p.toEncodedAudioChunk()));
  if (single.length === 0) return false;
  const grouped = await decodeAll(config, [joinPackets(packets)]);
  if (grouped.length !== single.length) return false;
  for (let i = 0; i < single.length; i++) if (!Object.is(grouped[i], single[i])) return false;
  return true;
}

/**
 * One run of the audio: a feeding loop (packets → decoder) and the decoder's output
 * callback (→ AudioStreamAssembler → ready windows) fill a queue of at most `ahead`
 * windows that `windows()` hands out. Errors (decoder, demuxer, stall) end the queue.
 */
export class AudioPump {
  private readonly queue = new WindowQueue();
  private stopped = false;
  private wakeFeeder: (() => void) | null = null;
  private lastProgress = performance.now();
  private readonly asm: AudioStreamAssembler;

  constructor(
    private readonly track: InputAudioTrack,
    plan: AudioPlan,
    channel: AudioChannel,
    private readonly ahead: number,
    private readonly name: string,
    private readonly stallMs: number,
    private readonly onPath?: (path: string) => void,
  ) {
    this.asm = new AudioStreamAssembler(plan, channel);
    void this.run();
  }

  private push(ws: AudioWindow[]): void {
    if (ws.length === 0) return;
    this.lastProgress = performance.now();
    this.queue.push(...ws);
  }

  private fail(e: unknown, stage: string): void {
    if (!this.stopped) this.queue.fail(decodeError(e, this.name, stage));
    this.stopped = true;
    this.wakeFeeder?.();
  }

  private async run(): Promise<void> {
    const watchdog = setInterval(() => {
      // waiting for the consumer is not a stall
      if (this.queue.ready.length < this.ahead && !this.queue.finished && performance.now() - this.lastProgress > this.stallMs) {
        this.fail(
          new CaptionError(
            'media/decode-failed',
            `Decoding “${this.name}” stopped making progress (decoding audio). The file may be damaged or incomplete; re-encode it (e.g. ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4) and try again.`,
            { name: this.name, stage: 'decoding audio' },
          ),
          'decoding the audio',
        );
      }
    }, Math.min(1000, this.stallMs));
    try {
      const config = await this.track.getDecoderConfig();
      const native =
        config !== null && typeof AudioDecoder !== 'undefined' && ((await AudioDecoder.isConfigSupported(config).catch(() => null))?.supported ?? false);
      if (native) await this.viaAudioDecoder(config!);
      else await this.viaSampleSink();
      if (!this.stopped) this.push(this.asm.finish());
    } catch (e) {
      this.fail(e, 'decoding the audio');
    } finally {
      clearInterval(watchdog);
      this.queue.end();
    }
  }

  /** Resolves when the feeder may go on: the consumer took a window, or the decoder drained. */
  private feederWait(decoder: AudioDecoder | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.wakeFeeder = null;
        decoder?.removeEventListener('dequeue', done);
        resolve();
      };
      this.wakeFeeder = done;
      decoder?.addEventListener('dequeue', done);
    });
  }

  private async viaAudioDecoder(config: AudioDecoderConfig): Promise<void> {
    let clock: DecoderClock | null = null;
    const decoder = new AudioDecoder({
      output: (data) => {
        try {
          if (!this.stopped && !this.asm.done && data.numberOfFrames > 0) {
            const t = clock!.next(data.timestamp / 1e6, data.numberOfFrames, data.sampleRate);
            this.push(this.asm.write(t, data));
          }
        } catch (e) {
          this.fail(e, 'decoding the audio');
        } finally {
          data.close();
        }
      },
      error: (e) => this.fail(e, 'decoding the audio'),
    });
    decoder.configure(config);
    const packets = new EncodedPacketSink(this.track).packets();
    // AAC: several access units per chunk (see groupedAacDecodes), once a probe shows that
    // this browser's decoder returns exactly what it returns for them one by one
    const aac = /^mp4a\.40\./.test(config.codec);
    let probed = !aac; // until the probe: collect the first AAC_GROUP packets
    let join = false; // the probe passed: pending packets go as one chunk
    let pending: EncodedPacket[] = [];
    const submit = () => {
      if (join && pending.length > 1) decoder.decode(joinPackets(pending));
      else for (const p of pending) decoder.decode(p.toEncodedAudioChunk());
      pending = [];
    };
    if (!aac) this.onPath?.('AudioDecoder');
    try {
      for (;;) {
        if (this.stopped || this.asm.done) break;
        while (!this.stopped && (decoder.decodeQueueSize > MAX_DECODE_QUEUE || this.queue.ready.length >= this.ahead)) await this.feederWait(decoder);
        if (this.stopped) break;
        const r = await packets.next();
        if (r.done) break;
        this.lastProgress = performance.now();
        const p = r.value;
        clock ??= new DecoderClock(p.timestamp);
        const last = pending.at(-1);
        // a group holds consecutive packets only (a gap keeps its own timestamp)
        const gap = last !== undefined && Math.abs(last.timestamp + last.duration - p.timestamp) > 0.5 / config.sampleRate;
        if (last && (gap || pending.length >= (probed ? (join ? AAC_GROUP : 1) : AAC_GROUP))) submit();
        pending.push(p);
        if (!probed && pending.length === AAC_GROUP) {
          probed = true;
          join = await groupedAacDecodes(config, pending);
          this.onPath?.(join ? `AudioDecoder, AAC in groups of ${AAC_GROUP}` : 'AudioDecoder');
        }
      }
      if (!probed) this.onPath?.('AudioDecoder');
      if (!this.stopped) submit();
      if (!this.stopped && decoder.state === 'configured') await decoder.flush();
    } finally {
      await packets.return(undefined).catch(() => undefined);
      if (decoder.state !== 'closed') decoder.close();
    }
  }

  private async viaSampleSink(): Promise<void> {
    this.onPath?.('AudioSampleSink');
    const it = new AudioSampleSink(this.track).samples();
    try {
      while (!this.stopped && !this.asm.done) {
        while (!this.stopped && this.queue.ready.length >= this.ahead) await this.feederWait(null);
        if (this.stopped) break;
        const r = await it.next();
        if (r.done) break;
        const s = r.value;
        try {
          this.lastProgress = performance.now();
          this.push(this.asm.write(s.timestamp, s));
        } finally {
          s.close();
        }
      }
    } finally {
      await it.return(undefined).catch(() => undefined);
    }
  }

  async *windows(): AsyncGenerator<AudioWindow> {
    try {
      yield* this.queue.drain(() => this.wakeFeeder?.());
    } finally {
      // consumer done or gone (break, error): stop decoding
      this.stopped = true;
      this.wakeFeeder?.();
    }
  }
}

/**
 * Windows in order from a producer (a decoder's callbacks, a worker's messages) to one
 * consumer: `drain()` yields them as they come, then ends, or throws the first `fail()`.
 */
export class WindowQueue {
  readonly ready: AudioWindow[] = [];
  error: unknown = null;
  finished = false;
  private waiting: (() => void) | null = null;

  push(...ws: AudioWindow[]): void {
    this.ready.push(...ws);
    this.wake();
  }

  wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  fail(e: unknown): void {
    this.error ??= e;
    this.wake();
  }

  end(): void {
    this.finished = true;
    this.wake();
  }

  /** Yields every window, calling `onTake` as each is taken (credit for the producer). */
  async *drain(onTake: () => void): AsyncGenerator<AudioWindow> {
    for (;;) {
      if (this.ready.length > 0) {
        const w = this.ready.shift()!;
        onTake();
        yield w;
        continue;
      }
      if (this.error !== null) throw this.error;
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}
