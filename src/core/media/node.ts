/**
 * Node side of media ingestion (CLI + tests): the same MediaSource over Debian's
 * ffprobe / ffmpeg (child_process). Frames come out as rgb24 at the planned timestamps
 * (ffmpeg applies the rotation tag), audio as f32le 16 kHz mono: channel 0 by default
 * (`-af pan=mono|c0=c0 -ar 16000`, PIPELINE §3, as the checkpoint), or the mix
 * (`-ac 1 -ar 16000 -rematrix_maxval 1.0`: the downmix weights are normalised to sum to
 * 1 — stereo is (L + R) / 2 — where plain `-ac 1` writes 0.707·(L + R) to float output,
 * +3 dB and past 1.0 on loud audio).
 */
import { spawn } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CaptionError } from '../errors';
import { sniffKind } from './sniff';
import type { AudioPlan, FramePlan } from './plan';
import { timelineFromTimestamps } from './plan';
import { WindowAssembler, unsupportedCodecError } from './pipeline';
import type { AudioTrackInfo, AudioWindow, AudioWindowsOptions, FramesOptions, MediaInfo, MediaSource, NativeFrame, Rotation, VideoTrackInfo } from './types';

export interface NodeMediaOptions {
  ffmpeg?: string;
  ffprobe?: string;
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) =>
      reject(
        new CaptionError('runtime/internal', `Could not run ${cmd}: ${e.message}. Install ffmpeg (apt-get install -y ffmpeg).`, {
          cmd,
        }),
      ),
    );
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

const decoderCache = new Map<string, Promise<Set<string>>>();
/** Whether this ffmpeg has a decoder of that name (`ffmpeg -decoders`, cached). */
export async function hasDecoder(ffmpeg: string, name: string): Promise<boolean> {
  let p = decoderCache.get(ffmpeg);
  if (!p) {
    p = run(ffmpeg, ['-hide_banner', '-decoders']).then(
      (r) => new Set(r.stdout.toString().split('\n').map((l) => l.trim().split(/\s+/)[1]).filter(Boolean)),
      () => new Set<string>(),
    );
    decoderCache.set(ffmpeg, p);
  }
  return (await p).has(name);
}

/** ffmpeg codec names → the names mediabunny uses (so both sides report the same). */
const CODEC_MAP: Record<string, string> = {
  h264: 'avc',
  hevc: 'hevc',
  vp8: 'vp8',
  vp9: 'vp9',
  av1: 'av1',
  prores: 'prores',
  mpeg4: 'mp4v',
  mpeg2video: 'mpeg2',
  mjpeg: 'mjpeg',
  aac: 'aac',
  opus: 'opus',
  mp3: 'mp3',
  vorbis: 'vorbis',
  flac: 'flac',
  ac3: 'ac3',
  eac3: 'eac3',
  dts: 'dts',
};

interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  codec_tag_string?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  start_time?: string;
  duration?: string;
  tags?: Record<string, string>;
  color_space?: string;
  side_data_list?: { rotation?: number }[];
  disposition?: Record<string, number>;
}

export class NodeMediaSource implements MediaSource {
  readonly info: MediaInfo;
  readonly path: string;
  private readonly ffmpeg: string;
  private readonly videoIndex: number | null;
  private readonly audioIndex: number | null;

  constructor(path: string, info: MediaInfo, ffmpeg: string, videoIndex: number | null, audioIndex: number | null) {
    this.path = path;
    this.info = info;
    this.ffmpeg = ffmpeg;
    this.videoIndex = videoIndex;
    this.audioIndex = audioIndex;
  }

  /** One frame (rgb24, display orientation) at the given timestamp. */
  async frameAt(timestamp: number): Promise<{ width: number; height: number; data: Uint8Array }> {
    const v = this.info.video;
    if (!v || this.videoIndex === null) throw new CaptionError('media/no-video-track', `“${this.info.name}” has no video track.`, {});
    // accurate seek: first frame with pts ≥ t − 0.5 ms (frames are further apart than that)
    const t = Math.max(0, timestamp - 0.0005);
    const r = await run(this.ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-ss', t.toFixed(6), '-i', this.path,
      '-map', `0:${this.videoIndex}`, '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
    ]);
    const bytes = v.width * v.height * 3;
    if (r.code !== 0 || r.stdout.length < bytes) {
      throw new CaptionError(
        'media/decode-failed',
        `ffmpeg could not decode the frame at ${timestamp.toFixed(3)} s of “${this.info.name}”: ${r.stderr.trim().split('\n').pop() ?? 'no output'}`,
        { timestamp },
      );
    }
    return { width: v.width, height: v.height, data: new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, bytes) };
  }

  async *frames(plan: FramePlan, options: FramesOptions = {}): AsyncGenerator<NativeFrame> {
    const v = this.info.video;
    if (!v) throw new CaptionError('media/no-video-track', `“${this.info.name}” has no video track.`, {});
    if (!v.decodable) throw unsupportedCodecError('video', v.codec, v.codecString, this.info.name);
    if (options.sequential && regularStep(plan) !== null) {
      yield* this.framesInOnePass(plan, regularStep(plan)!);
      return;
    }
    for (let i = 0; i < plan.indices.length; i++) {
      const img = await this.frameAt(plan.timestamps[i]);
      yield { index: i, frameIndex: plan.indices[i], timestamp: plan.timestamps[i], frameTimestamp: plan.timestamps[i], image: img };
    }
  }

  /** Every `step`-th frame from the first, in one ffmpeg pass (select on the decoded frame number). */
  private async *framesInOnePass(plan: FramePlan, step: number): AsyncGenerator<NativeFrame> {
    const v = this.info.video!;
    const bytes = v.width * v.height * 3;
    const p = spawn(
      this.ffmpeg,
      ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', this.path, '-map', `0:${this.videoIndex}`,
        '-vf', `select='not(mod(n\\,${step}))'`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((res) => p.on('close', res));
    let pending: Buffer[] = [];
    let have = 0;
    let i = 0;
    try {
      for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
        pending.push(chunk);
        have += chunk.length;
        while (have >= bytes && i < plan.indices.length) {
          const buf = Buffer.concat(pending);
          const data = new Uint8Array(bytes);
          data.set(buf.subarray(0, bytes));
          pending = [buf.subarray(bytes)];
          have -= bytes;
          yield { index: i, frameIndex: plan.indices[i], timestamp: plan.timestamps[i], frameTimestamp: plan.timestamps[i], image: { width: v.width, height: v.height, data } };
          i++;
        }
        if (i >= plan.indices.length) break;
      }
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    const code = await closed;
    if (i < plan.indices.length) {
      throw new CaptionError('media/decode-failed', `ffmpeg decoded ${i} of the ${plan.indices.length} planned frames of “${this.info.name}”${code !== 0 ? `: ${stderr.trim().split('\n').pop() ?? ''}` : ''}`, { decoded: i });
    }
  }

  async *audioWindows(plan: AudioPlan, options: AudioWindowsOptions = {}): AsyncGenerator<AudioWindow> {
    if (!this.info.audio || this.audioIndex === null) {
      throw new CaptionError('media/no-audio-track', `“${this.info.name}” has no audio track.`, {});
    }
    const channel = options.channel ?? 0;
    if (channel !== 0 && channel !== 'mix') throw new RangeError(`audio channel must be 0 or 'mix' (got ${String(channel)})`);
    // channel 0: the pan filter keeps the first channel (FL of stereo / 5.1), as the browser side does
    const mono = channel === 0 ? ['-af', 'pan=mono|c0=c0'] : ['-ac', '1', '-rematrix_maxval', '1.0'];
    // Opus: the reference decoder (libopus, as in browsers); ffmpeg's native SILK decoder
    // differs by up to 0.05 RMS on low-rate speech.
    const dec = this.info.audio.codec === 'opus' && (await hasDecoder(this.ffmpeg, 'libopus')) ? ['-c:a', 'libopus'] : [];
    const p = spawn(
      this.ffmpeg,
      ['-hide_banner', '-loglevel', 'error', '-nostdin', ...dec, '-i', this.path, '-map', `0:${this.audioIndex}`,
        ...mono, '-ar', String(plan.sampleRate), '-f', 'f32le', '-'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((res) => p.on('close', res));
    const asm = new WindowAssembler(plan);
    let carry = Buffer.alloc(0);
    try {
      for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
        const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
        const whole = buf.length - (buf.length % 4);
        carry = Buffer.from(buf.subarray(whole));
        const f = new Float32Array(whole / 4);
        new Uint8Array(f.buffer).set(buf.subarray(0, whole));
        for (const w of asm.write(f)) yield w;
        if (asm.done) break;
      }
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    const code = await closed;
    if (!asm.done && code !== 0) {
      throw new CaptionError('media/decode-failed', `ffmpeg could not decode the audio of “${this.info.name}”: ${stderr.trim()}`, {});
    }
    for (const w of asm.finish()) yield w;
  }

  close(): void {}
}

/** The step of a plan that takes every step-th frame from the first (0, r, 2r, …), else null. */
function regularStep(plan: FramePlan): number | null {
  const step = plan.indices.length > 1 ? plan.indices[1] - plan.indices[0] : 1;
  return step >= 1 && plan.indices.every((x, i) => x === i * step) ? step : null;
}

/** Probes a file with ffprobe (tracks, every video frame's timestamp) into MediaInfo. */
export async function openNodeMedia(path: string, opts: NodeMediaOptions = {}): Promise<NodeMediaSource> {
  const ffprobe = opts.ffprobe ?? 'ffprobe';
  const ffmpeg = opts.ffmpeg ?? 'ffmpeg';
  const name = basename(path);
  const st = await stat(path).catch(() => null);
  if (!st) throw new CaptionError('media/not-a-video', `“${path}” does not exist.`, { path });
  if (st.size === 0) {
    throw new CaptionError('media/empty-file', `“${name}” is empty (0 bytes). Choose the video file again; if it was still copying or downloading, wait until it has finished.`, { name });
  }
  const fh = await open(path, 'r');
  const head = Buffer.alloc(512);
  await fh.read(head, 0, 512, 0);
  await fh.close();
  const pr = await run(ffprobe, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
  if (pr.code !== 0) {
    const sniff = sniffKind(head);
    if (sniff.video) {
      throw new CaptionError('media/corrupt', `“${name}” looks like ${sniff.kind} but its structure cannot be read: it is probably damaged or incomplete. Re-download or re-export it and try again.`, { name, kind: sniff.kind, ffprobe: pr.stderr.trim() });
    }
    throw new CaptionError('media/not-a-video', `“${name}” is ${sniff.kind}, not a video or audio file. Choose a video (MP4, WebM, MOV, MKV) or an audio file (M4A, MP3, WAV, …).`, { name, kind: sniff.kind });
  }
  const j = JSON.parse(pr.stdout.toString()) as { streams: ProbeStream[]; format: { format_name: string; duration?: string } };
  const streams = j.streams ?? [];
  const isImage = /image2|png_pipe|jpeg_pipe|gif|webp_pipe|bmp_pipe/.test(j.format.format_name);
  const vs = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const as = streams.find((s) => s.codec_type === 'audio');
  if (isImage) {
    throw new CaptionError('media/not-a-video', `“${name}” is ${sniffKind(head).kind}, not a video or audio file. Choose a video (MP4, WebM, MOV, MKV) or an audio file.`, { name });
  }
  if (!vs && !as) throw new CaptionError('media/no-tracks', `“${name}” contains no video or audio track.`, { name });

  let video: VideoTrackInfo | null = null;
  if (vs) {
    const pk = await run(ffprobe, ['-v', 'error', '-select_streams', String(vs.index), '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', path]);
    const rows = pk.stdout.toString().trim().split('\n').filter(Boolean).map((l) => l.split(','));
    const ts = rows.map((r) => Number(r[0])).filter((x) => Number.isFinite(x));
    if (ts.length === 0) throw new CaptionError('media/no-video-track', `The video track of “${name}” has no frames.`, { name });
    const declared = Number((vs as { nb_frames?: string }).nb_frames);
    if (Number.isFinite(declared) && declared > ts.length + 1) {
      throw new CaptionError(
        'media/corrupt',
        `“${name}” is incomplete: its index lists ${declared} video frames but the data stops after ${ts.length}. The file was probably cut off while copying or downloading; get a complete copy and try again.`,
        { name, declared, present: ts.length },
      );
    }
    const lastDur = Number(rows[rows.length - 1][1]);
    const timeline = timelineFromTimestamps(ts, Number.isFinite(lastDur) && lastDur > 0 ? lastDur : undefined);
    const rawRot = vs.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(vs.tags?.rotate ?? 0);
    const rotation = ((((-rawRot) % 360) + 360) % 360) as Rotation; // displaymatrix is counter-clockwise
    const swap = rotation === 90 || rotation === 270;
    const codec = CODEC_MAP[vs.codec_name ?? ''] ?? vs.codec_name ?? 'unknown';
    const last = timeline.timestamps![timeline.frameCount - 1];
    video = {
      codec,
      codecString: vs.codec_tag_string ?? null,
      width: swap ? vs.height! : vs.width!,
      height: swap ? vs.width! : vs.height!,
      codedWidth: vs.width!,
      codedHeight: vs.height!,
      rotation,
      colorMatrix: vs.color_space && vs.color_space !== 'unknown' ? (vs.color_space === 'bt470bg' ? 'bt470bg' : vs.color_space) : null,
      timeline,
      duration: last + (Number.isFinite(lastDur) && lastDur > 0 ? lastDur : 1 / timeline.avgFps),
      decodable: true,
    };
  }
  let audio: AudioTrackInfo | null = null;
  if (as) {
    const start = Number(as.start_time ?? 0);
    const dur = Number(as.duration ?? j.format.duration ?? 0);
    audio = {
      codec: CODEC_MAP[as.codec_name ?? ''] ?? as.codec_name ?? 'unknown',
      codecString: as.codec_tag_string ?? null,
      sampleRate: Number(as.sample_rate),
      channels: as.channels ?? 1,
      firstTimestamp: start,
      duration: start + dur,
      decodable: true,
    };
  }
  const duration = Math.max(video?.duration ?? 0, audio?.duration ?? 0, Number(j.format.duration ?? 0));
  const info: MediaInfo = { name, bytes: st.size, container: j.format.format_name, duration, video, audio };
  return new NodeMediaSource(path, info, ffmpeg, vs?.index ?? null, as?.index ?? null);
}
