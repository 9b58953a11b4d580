/**
 * Browser side of media ingestion (runs inside the Web Worker): mediabunny over WebCodecs
 * opens the user's File, lists the frames, decodes the planned ones at native size and
 * streams the audio as 16 kHz mono windows. Needs OffscreenCanvas + WebCodecs (Chromium).
 */
import {
  ALL_FORMATS,
  BlobSource,
  EncodedPacketSink,
  Input,
  type EncodedPacket,
  type InputAudioTrack,
  type PacketRetrievalOptions,
  type VideoSample,
  VideoSampleSink,
  type InputVideoTrack,
} from 'mediabunny';
import { CaptionError, isCaptionError } from '../errors';
import type { AudioPlan, FramePlan } from './plan';
import { timelineFromTimestamps } from './plan';
import { decodeError, unsupportedCodecError } from './pipeline';
export { assertDecodable } from './pipeline';
import { AudioPump } from './audio-pump';
import { WorkerAudioPump, type AudioWorkerFactory, type AudioWorkerStart } from './audio-worker';
export type { AudioWorkerFactory, AudioWorkerPort } from './audio-worker';
import { rgbaToRgb, type RgbImage } from '../features/pixels';
import { matrixFromColorSpace, rotateRgb, yuv420ToRgb } from './yuv';
import { sniffKind } from './sniff';
export { sniffKind };
import { avcLengthSize, isNonReferenceAvc } from './avc-ref';
import type { AudioTrackInfo, AudioWindow, AudioWindowsOptions, MediaInfo, MediaSource, NativeFrame, Rotation, VideoTrackInfo } from './types';

export interface OpenOptions {
  /** Give up on a decode step that makes no progress for this long (ms). */
  stallTimeoutMs?: number;
  /**
   * H.264: leave out of the decoder the non-reference pictures between a keyframe and a
   * planned frame (they change no other frame; see avc-ref.ts). Default true; false decodes
   * every packet, as mediabunny does (tests compare the two).
   */
  skipNonReference?: boolean;
  /**
   * Video decoders frames() runs at once (1 or 2; default 2) on planned frames that hang from
   * different keyframes. The frames are the same either way.
   */
  videoDecoders?: 1 | 2;
  /**
   * Makes a dedicated worker (running src/worker/audio.worker.ts) that decodes the audio on
   * a JS thread of its own, so audioWindows() runs in parallel with frames() (same samples;
   * audio-worker.ts). Without it the audio is decoded on this thread (Node tests, harnesses).
   */
  audioWorker?: AudioWorkerFactory;
}

/** What the last frames() call fed and left out (for tests and benchmarks). */
export interface FrameDecodeStats {
  /** Packets given to the decoder after their keyframe. */
  fed: number;
  /** Non-reference packets left out. */
  skipped: number;
}

/**
 * mediabunny's EncodedPacketSink that, in the decode loop of samplesAtTimestamps (which walks
 * from a keyframe to the planned packets with getNextPacket), steps over H.264 packets that
 * are non-reference pictures and not themselves a planned frame. Every packet looked up by
 * timestamp (getPacket: the planned ones) is remembered and always fed.
 */
class SkippingPacketSink extends EncodedPacketSink {
  private readonly targets = new Set<number>();
  constructor(
    track: InputVideoTrack,
    private readonly lengthSize: number | null,
    private readonly stats: FrameDecodeStats,
    private readonly skip: boolean,
  ) {
    super(track);
  }

  override async getPacket(timestamp: number, options?: PacketRetrievalOptions): Promise<EncodedPacket | null> {
    const p = await super.getPacket(timestamp, options);
    if (p) this.targets.add(p.sequenceNumber);
    return p;
  }

  override async getNextPacket(packet: EncodedPacket, options: PacketRetrievalOptions = {}): Promise<EncodedPacket | null> {
    let p = await super.getNextPacket(packet, options);
    while (p && this.skip && !options.metadataOnly && p.type === 'delta' && !this.targets.has(p.sequenceNumber) && isNonReferenceAvc(p.data, this.lengthSize)) {
      this.stats.skipped++;
      p = await super.getNextPacket(p, options);
    }
    if (p && !options.metadataOnly) this.stats.fed++;
    return p;
  }
}

/** VideoSampleSink whose decode loop reads its packets through a SkippingPacketSink. */
class SkippingVideoSampleSink extends VideoSampleSink {
  constructor(
    private readonly videoTrack: InputVideoTrack,
    private readonly lengthSize: number | null,
    private readonly stats: FrameDecodeStats,
    private readonly skip: boolean,
  ) {
    super(videoTrack);
  }

  /** Overrides mediabunny's internal factory (media-sink.js: `_createPacketSink`; pinned version). */
  _createPacketSink(): EncodedPacketSink {
    return new SkippingPacketSink(this.videoTrack, this.lengthSize, this.stats, this.skip);
  }
}

function nameOf(file: Blob): string {
  return (file as File).name ?? 'the file';
}

async function withStall<T>(p: Promise<T>, ms: number, what: string, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CaptionError(
            'media/decode-failed',
            `Decoding “${name}” stopped making progress (${what}). The file may be damaged or incomplete; re-encode it (e.g. ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4) and try again.`,
            { name, stage: what },
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p, stall]);
  } finally {
    clearTimeout(timer);
  }
}


/**
 * Container codec ids (MP4 sample entry, Matroska CodecID) of codecs mediabunny does not
 * decode → the names node.ts reports for them (ffmpeg's mpeg4 → 'mp4v', …), so an
 * unsupported file is named, not 'unknown'. Other ids are reported as they are.
 */
const INTERNAL_CODECS: Record<string, string> = {
  mp4v: 'mp4v', xvid: 'mp4v', divx: 'mp4v', dx50: 'mp4v', fmp4: 'mp4v',
  'v_mpeg4/iso/asp': 'mp4v', 'v_mpeg4/iso/sp': 'mp4v', 'v_mpeg4/iso/ap': 'mp4v',
  mp2v: 'mpeg2', m2v1: 'mpeg2', v_mpeg2: 'mpeg2',
  jpeg: 'mjpeg', mjpa: 'mjpeg', mjpb: 'mjpeg', v_mjpeg: 'mjpeg',
};

async function codecOf(track: InputVideoTrack | InputAudioTrack): Promise<{ codec: string; codecString: string | null }> {
  const codec = await track.getCodec();
  const codecString = await track.getCodecParameterString().catch(() => null);
  if (codec) return { codec, codecString };
  const id = await track.getInternalCodecId().catch(() => null);
  const raw = id === null ? null : String(id).trim();
  return { codec: (raw && INTERNAL_CODECS[raw.toLowerCase()]) ?? raw ?? 'unknown', codecString: codecString ?? raw };
}

async function probeVideo(track: InputVideoTrack, name: string, stallMs: number): Promise<VideoTrackInfo> {
  const { codec, codecString } = await codecOf(track);
  const decodable = (await track.getCodec()) !== null && (await track.canDecode().catch(() => false));
  const sink = new EncodedPacketSink(track);
  const ts: number[] = [];
  let lastDur = 0;
  const list = async () => {
    for await (const p of sink.packets(undefined, undefined, { metadataOnly: true })) {
      ts.push(p.timestamp);
      lastDur = p.duration;
    }
  };
  await withStall(list(), stallMs * 4, 'listing video frames', name);
  if (ts.length === 0) {
    throw new CaptionError('media/no-video-track', `The video track of “${name}” has no frames.`, { name });
  }
  const timeline = timelineFromTimestamps(ts, lastDur > 0 ? lastDur : undefined);
  const last = timeline.timestamps![timeline.frameCount - 1];
  return {
    codec,
    codecString,
    width: await track.getDisplayWidth(),
    height: await track.getDisplayHeight(),
    codedWidth: await track.getCodedWidth(),
    codedHeight: await track.getCodedHeight(),
    rotation: (await track.getRotation()) as Rotation,
    colorMatrix: (await track.getColorSpace().catch(() => ({}) as VideoColorSpaceInit)).matrix ?? null,
    timeline,
    duration: last + (lastDur > 0 ? lastDur : 1 / timeline.avgFps),
    decodable,
  };
}

async function probeAudio(track: InputAudioTrack): Promise<AudioTrackInfo> {
  const { codec, codecString } = await codecOf(track);
  const known = (await track.getCodec()) !== null;
  return {
    codec,
    codecString,
    sampleRate: await track.getSampleRate(),
    channels: await track.getNumberOfChannels(),
    firstTimestamp: await track.getFirstTimestamp(),
    duration: await track.computeDuration(),
    decodable: known && (await track.canDecode().catch(() => false)),
  };
}

/**
 * A decoded sample → packed RGB in display orientation. 8-bit 4:2:0 (I420 / NV12, what
 * the software decoders give) is converted in TS like ffmpeg (BT.601 when untagged);
 * anything else is drawn through a canvas (the browser's own conversion).
 */
export async function sampleToRgb(sample: VideoSample, trackMatrix?: string | null): Promise<RgbImage> {
  const vr = sample.visibleRect;
  const w = vr.width;
  const h = vr.height;
  const square = sample.pixelAspectRatio.num === sample.pixelAspectRatio.den;
  const fmt = sample.format;
  let img: RgbImage;
  if ((fmt === 'I420' || fmt === 'I420A' || fmt === 'NV12') && square) {
    const buf = new Uint8Array(sample.allocationSize());
    const layout = await sample.copyTo(buf);
    const cs = sample.colorSpace;
    img = yuv420ToRgb(buf, layout, w, h, fmt === 'NV12' ? 'NV12' : 'I420', matrixFromColorSpace(trackMatrix === undefined ? cs.matrix : trackMatrix), cs.fullRange === true);
  } else {
    const cw = sample.squarePixelWidth;
    const ch = sample.squarePixelHeight;
    const canvas = new OffscreenCanvas(cw, ch);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const frame = sample.toVideoFrame();
    try {
      ctx.drawImage(frame, 0, 0, cw, ch);
    } finally {
      frame.close();
    }
    img = rgbaToRgb(ctx.getImageData(0, 0, cw, ch).data, cw, ch);
  }
  img = rotateRgb(img, sample.rotation);
  if (sample.flip) img = flipRgb(img);
  return img;
}

function flipRgb(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out.set(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (y * w + (w - 1 - x)) * 3);
  return { width: w, height: h, data: out };
}

// eslint-disable-next-line require-yield
async function* failing(e: Error): AsyncGenerator<AudioWindow> {
  throw e;
}

export class BrowserMediaSource implements MediaSource {
  readonly info: MediaInfo;
  /** How the last audioWindows() call decodes (for tests and benchmarks). */
  audioPath: string | null = null;
  /** Whether the last audioWindows() call decodes in the audio worker (OpenOptions.audioWorker). */
  audioInWorker = false;
  /** What the last frames() call fed to the video decoder and left out. */
  frameStats: FrameDecodeStats = { fed: 0, skipped: 0 };
  /** Audio workers running (terminated when their consumer stops, or at close()). */
  private readonly audioWorkers = new Set<WorkerAudioPump>();
  private readonly input: Input;
  private readonly videoTrack: InputVideoTrack | null;
  private readonly audioTrack: InputAudioTrack | null;
  private readonly stallMs: number;

  constructor(
    info: MediaInfo,
    input: Input,
    video: InputVideoTrack | null,
    audio: InputAudioTrack | null,
    stallMs: number,
    private readonly skipNonReference = true,
    private readonly videoDecoders = 2,
    private readonly file: Blob | null = null,
    private readonly audioWorker?: AudioWorkerFactory,
  ) {
    this.info = info;
    this.input = input;
    this.videoTrack = video;
    this.audioTrack = audio;
    this.stallMs = stallMs;
  }

  async *frames(plan: FramePlan): AsyncGenerator<NativeFrame> {
    const v = this.info.video;
    if (!v || !this.videoTrack) throw new CaptionError('media/no-video-track', `“${this.info.name}” has no video track.`, {});
    if (!v.decodable) throw unsupportedCodecError('video', v.codec, v.codecString, this.info.name);
    const tl = v.timeline;
    const first = tl.timestamps ? tl.timestamps[0] : tl.firstTimestamp;
    const last = tl.timestamps ? tl.timestamps[tl.frameCount - 1] : first + (tl.frameCount - 1) / tl.avgFps;
    // clamp to the first / last decodable frame (WebM's first frame can sit at 0.007 s)
    const wanted = plan.timestamps.map((t) => Math.min(Math.max(t, first), last));
    const stats: FrameDecodeStats = { fed: 0, skipped: 0 };
    this.frameStats = stats;
    const makeSink = await this.sinkFactory(stats);
    // Planned frames that start from different keyframes are independent: with two decoders,
    // runs of frames sharing a keyframe go alternately to decoder 0 and 1, which decode at
    // the same time (each through its own mediabunny pump, a few frames ahead at most).
    const decoderOf = await this.decoderAssignment(wanted);
    const nDecoders = Math.max(...decoderOf) + 1;
    const its: AsyncGenerator<VideoSample | null, void, unknown>[] = [];
    for (let d = 0; d < nDecoders; d++) its.push(makeSink().samplesAtTimestamps(wanted.filter((_, i) => decoderOf[i] === d)));
    try {
      for (let i = 0; i < wanted.length; i++) {
        let r: IteratorResult<VideoSample | null, void>;
        try {
          r = await withStall(its[decoderOf[i]].next(), this.stallMs, `decoding frame ${i + 1} at ${wanted[i].toFixed(3)} s`, this.info.name);
        } catch (e) {
          throw decodeError(e, this.info.name, `decoding frame ${i + 1} of ${wanted.length}`);
        }
        const sample = r.done ? null : r.value;
        if (!sample) {
          throw new CaptionError(
            'media/decode-failed',
            `Frame ${i + 1} (at ${wanted[i].toFixed(3)} s) of “${this.info.name}” could not be decoded: the file is damaged or incomplete (cut off while copying or downloading?). Get a complete copy, or re-encode it (e.g. ffmpeg -i in.mp4 -c:v libx264 -c:a aac out.mp4), and try again.`,
            { name: this.info.name, timestamp: wanted[i] },
          );
        }
        try {
          yield {
            index: i,
            frameIndex: plan.indices[i],
            timestamp: plan.timestamps[i],
            frameTimestamp: sample.timestamp,
            image: await sampleToRgb(sample, v.colorMatrix),
          };
        } finally {
          sample.close();
        }
      }
    } finally {
      for (const it of its) await it.return(undefined).catch(() => undefined);
    }
  }

  /**
   * A maker of one frame sink per decoder, the track's codec and avcC record read once. H.264:
   * packets go through SkippingPacketSink (which counts them, and with skipNonReference leaves
   * out the non-reference ones); other codecs as mediabunny has them.
   */
  private async sinkFactory(stats: FrameDecodeStats): Promise<() => VideoSampleSink> {
    const track = this.videoTrack!;
    const config = (await track.getCodec()) === 'avc' ? await track.getDecoderConfig().catch(() => null) : null;
    if (!config) return () => new VideoSampleSink(track);
    const desc = config.description;
    const bytes = desc === undefined ? null : ArrayBuffer.isView(desc) ? new Uint8Array(desc.buffer, desc.byteOffset, desc.byteLength) : new Uint8Array(desc);
    const lengthSize = avcLengthSize(bytes);
    // an avcC record whose length size cannot be read: feed everything
    if (bytes !== null && lengthSize === null) return () => new VideoSampleSink(track);
    return () => new SkippingVideoSampleSink(track, lengthSize, stats, this.skipNonReference);
  }

  /**
   * Which decoder each planned frame goes to: 0 for all with one decoder, or when the frames
   * all hang from one keyframe; else the runs of frames with the same keyframe (in order)
   * alternate between 0 and 1. Keyframes from the index (metadata only, no bytes read).
   */
  private async decoderAssignment(wanted: readonly number[]): Promise<number[]> {
    const out = wanted.map(() => 0);
    if (this.videoDecoders < 2 || wanted.length < 2) return out;
    const sink = new EncodedPacketSink(this.videoTrack!);
    let run = 0;
    let lastKey: number | null = null;
    let lastT = -Infinity;
    for (let i = 0; i < wanted.length; i++) {
      const k = await sink.getKeyPacket(wanted[i], { metadataOnly: true }).catch(() => null);
      const key = k ? k.sequenceNumber : -1;
      if (lastKey !== null && (key !== lastKey || wanted[i] < lastT)) run++;
      lastKey = key;
      lastT = wanted[i];
      out[i] = run % 2;
    }
    return out;
  }

  /**
   * Audio windows (PIPELINE §3). AAC, Opus, Vorbis, MP3, FLAC … go packet by packet to one
   * WebCodecs AudioDecoder kept well fed (up to 64 packets queued): each output is copied
   * (channel 0 straight into the resampler's input) and resampled in its output callback,
   * so decoding on the browser's media thread overlaps the resampling. Decoding starts
   * at the call and runs up to `prefetch` windows ahead of the consumer. Formats WebCodecs
   * cannot take (PCM) go through mediabunny's AudioSampleSink. With OpenOptions.audioWorker
   * all of it runs in that worker (≤ 2 × `prefetch` windows buffered: its queue and ours).
   */
  audioWindows(plan: AudioPlan, options: AudioWindowsOptions = {}): AsyncGenerator<AudioWindow> {
    const a = this.info.audio;
    const name = this.info.name;
    if (!a || !this.audioTrack) return failing(new CaptionError('media/no-audio-track', `“${name}” has no audio track.`, {}));
    if (!a.decodable) return failing(unsupportedCodecError('audio', a.codec, a.codecString, name));
    const channel = options.channel ?? 0;
    if (channel !== 0 && channel !== 'mix') throw new RangeError(`audio channel must be 0 or 'mix' (got ${String(channel)})`);
    const prefetch = Math.max(1, options.prefetch ?? 4);
    const onPath = (p: string) => (this.audioPath = p);
    const worker = this.audioWorker && this.file ? this.startAudioWorker({ type: 'start', file: this.file, name, plan, channel, prefetch, stallMs: this.stallMs }, onPath) : null;
    this.audioInWorker = worker !== null;
    if (worker) return worker.windows();
    return new AudioPump(this.audioTrack, plan, channel, prefetch, name, this.stallMs, onPath).windows();
  }

  /** The audio worker for one audioWindows() call; null when the factory fails (then in-thread). */
  private startAudioWorker(request: AudioWorkerStart, onPath: (p: string) => void): WorkerAudioPump | null {
    let pump: WorkerAudioPump | null = null;
    try {
      pump = new WorkerAudioPump(this.audioWorker!, request, onPath, () => this.audioWorkers.delete(pump!));
    } catch {
      return null;
    }
    this.audioWorkers.add(pump);
    return pump;
  }

  close(): void {
    for (const w of [...this.audioWorkers]) w.stop();
    this.input.dispose();
  }
}

/** Opens a user's file: container, tracks, every frame's timestamp. Errors are CaptionErrors. */
export async function openBrowserMedia(file: Blob, options: OpenOptions = {}): Promise<BrowserMediaSource> {
  const name = nameOf(file);
  const stallMs = options.stallTimeoutMs ?? 15000;
  if (file.size === 0) {
    throw new CaptionError('media/empty-file', `“${name}” is empty (0 bytes). Choose the video file again; if it was still copying or downloading, wait until it has finished.`, { name });
  }
  const head = new Uint8Array(await file.slice(0, 512).arrayBuffer());
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  try {
    let container: string;
    try {
      const fmt = await withStall(input.getFormat(), stallMs, 'reading the container', name);
      container = fmt.name;
    } catch (e) {
      if (isCaptionError(e)) throw e;
      const sniff = sniffKind(head);
      if (sniff.video) {
        throw new CaptionError('media/corrupt', `“${name}” looks like ${sniff.kind} but its structure cannot be read: it is probably damaged or incomplete. Re-download or re-export it and try again.`, { name, kind: sniff.kind });
      }
      throw new CaptionError('media/not-a-video', `“${name}” is ${sniff.kind}, not a video or audio file. Choose a video (MP4, WebM, MOV, MKV) or an audio file (M4A, MP3, WAV, …).`, { name, kind: sniff.kind });
    }
    let video: InputVideoTrack | null;
    let audio: InputAudioTrack | null;
    try {
      video = await withStall(input.getPrimaryVideoTrack(), stallMs, 'reading the tracks', name);
      audio = await withStall(input.getPrimaryAudioTrack(), stallMs, 'reading the tracks', name);
    } catch (e) {
      throw decodeError(e, name, 'reading the track list');
    }
    if (!video && !audio) {
      const any = await input.getTracks().catch(() => []);
      if (any.length === 0 && /mp4|quicktime|mov/i.test(container)) {
        throw new CaptionError('media/corrupt', `“${name}” is an incomplete ${container} file: its index (the moov box) is missing, which happens when a recording or download is cut off. Get a complete copy, or try repairing it (e.g. with untrunc), and try again.`, { name, container });
      }
      throw new CaptionError('media/no-tracks', `“${name}” (${container}) contains no video or audio track.`, { name, container });
    }
    let vinfo: VideoTrackInfo | null = null;
    let ainfo: AudioTrackInfo | null = null;
    try {
      if (video) vinfo = await probeVideo(video, name, stallMs);
      if (audio) ainfo = await withStall(probeAudio(audio), stallMs, 'reading the audio track', name);
    } catch (e) {
      throw decodeError(e, name, 'reading the track index');
    }
    const duration = Math.max(vinfo?.duration ?? 0, ainfo?.duration ?? 0);
    const info: MediaInfo = { name, bytes: file.size, container, duration, video: vinfo, audio: ainfo };
    return new BrowserMediaSource(info, input, video, audio, stallMs, options.skipNonReference, options.videoDecoders, file, options.audioWorker);
  } catch (e) {
    input.dispose();
    throw e;
  }
}
