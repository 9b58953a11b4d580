/** Pure helpers of src/core/media: resize, YUV, rotation, downmix, windows, timeline. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioStreamAssembler, DecoderClock } from './audio-stream';
import { TimelineAligner, WindowAssembler, planMedia, unsupportedCodecError } from './pipeline';
import { planAudio } from './plan';
import { downmix, downmixWeights, resample, StreamingResampler } from './resample';
import { meanAbsDiff, reduceBox, resizeBicubic, thumbnailOf, toPixelTensor } from '../features/pixels';
import { sniffKind } from './sniff';
import { rotateRgb, yuv420ToRgb } from './yuv';
import type { MediaInfo } from './types';

describe('resizeBicubic (Pillow BICUBIC)', () => {
  it('shrinks 4 → 2 px with the antialiased a = −0.5 kernel (hand-computed)', () => {
    // out px 0: centre 1.0, support 4 → input 0..3, weights k((x − 0.5) / 2):
    // k(0.25)=0.8671875 ×2 (x=0,1), k(0.75)=0.2265625 (x=2), k(1.25)=−0.0703125 (x=3); sum 1.890625
    // (0·.8671875 + 100·.8671875 + 200·.2265625 − 255·.0703125) / 1.890625 = 60.35 → 60
    const row = new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
    const out = resizeBicubic({ width: 4, height: 1, data: row }, 2, 1);
    expect(out.data[0]).toBe(60);
    expect(out.data[1]).toBe(60);
    expect(out.width).toBe(2);
  });
  it('keeps a flat image flat and returns a copy at the same size', () => {
    const flat = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(77) };
    expect([...resizeBicubic(flat, 384, 384).data.slice(0, 30)]).toEqual(Array(30).fill(77));
    expect(resizeBicubic(flat, 3, 2).data.every((v) => v === 77)).toBe(true);
    const same = resizeBicubic(flat, 7, 5);
    expect(same.data).not.toBe(flat.data);
    expect(meanAbsDiff(same.data, flat.data)).toBe(0);
  });
  it('overshoots are clipped to 0…255', () => {
    const edge = new Uint8Array(8 * 3);
    edge.fill(255, 12); // 4 black, 4 white px
    const up = resizeBicubic({ width: 8, height: 1, data: edge }, 32, 1).data;
    expect(Math.min(...up)).toBe(0);
    expect(Math.max(...up)).toBe(255);
  });
  it('the WebAssembly SIMD passes give the scalar passes’ bytes (and are the module resize-wasm.gen.py assembles)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (const [w, h, ow, oh] of [[1280, 720, 384, 384], [7, 5, 3, 9], [33, 17, 160, 77], [1, 1, 384, 384], [2000, 3, 5, 1], [384, 10, 1000, 4], [5, 40, 5, 7], [1, 300, 1, 384], [1280, 720, 160, 90], [640, 360, 384, 384]]) {
      const img = { width: w, height: h, data: new Uint8Array(w * h * 3).map(rnd) };
      expect(meanAbsDiff(resizeBicubic(img, ow, oh).data, resizeBicubic(img, ow, oh, false).data), `${w}×${h} → ${ow}×${oh}`).toBe(0);
    }
    const py = spawnSync('python3', [join(import.meta.dirname, '../features/resize-wasm.gen.py')], { encoding: 'utf8' });
    if (py.status === 0) expect(readFileSync(join(import.meta.dirname, '../features/resize-wasm.ts'), 'utf8')).toContain(`'${py.stdout.trim()}'`);
  });
  it('thumbnail: box-reduced then bicubic (Pillow thumbnail, reducing gap 2) keeps the aspect and the picture', () => {
    const w = 1280;
    const h = 720;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x < w / 2 ? 200 : 20, (y * 255) / h, 90], (y * w + x) * 3);
    const t = thumbnailOf({ width: w, height: h, data }, 160);
    expect([t.width, t.height]).toEqual([160, 90]);
    const direct = resizeBicubic({ width: w, height: h, data }, 160, 90);
    expect(meanAbsDiff(t.data, direct.data)).toBeLessThan(1); // the same picture as a straight bicubic
    expect([...reduceBox({ width: 3, height: 1, data: new Uint8Array([0, 0, 0, 10, 10, 10, 7, 7, 7]) }, 2).data]).toEqual([5, 5, 5, 7, 7, 7]);
  });
  it('toPixelTensor: (x/255 − mean)/std, CHW', () => {
    const img = { width: 1, height: 2, data: new Uint8Array([0, 255, 51, 255, 0, 102]) };
    const t = toPixelTensor(img, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect([...t]).toEqual([-1, 1, 1, -1, -0.6, -0.19999999999999996].map((x) => Math.fround(x)));
  });
});

describe('yuv420ToRgb + rotateRgb', () => {
  const planes = (w: number, h: number, y: number, u: number, v: number) => {
    const cw = Math.ceil(w / 2);
    const ch = Math.ceil(h / 2);
    const data = new Uint8Array(w * h + 2 * cw * ch);
    data.fill(y, 0, w * h);
    data.fill(u, w * h, w * h + cw * ch);
    data.fill(v, w * h + cw * ch);
    return { data, layout: [{ offset: 0, stride: w }, { offset: w * h, stride: cw }, { offset: w * h + cw * ch, stride: cw }] };
  };
  it('limited-range BT.601 (ffmpeg default for untagged video)', () => {
    // grey: (126 − 16)·255/219 = 128.08
    const g = planes(4, 2, 126, 128, 128);
    expect([...yuv420ToRgb(g.data, g.layout, 4, 2, 'I420', 'bt601', false).data.slice(0, 3)]).toEqual([128, 128, 128]);
    // Y 65, U 100, V 212: `ffmpeg -f rawvideo -pix_fmt yuv420p -s 2x2 … -pix_fmt rgb24` gives 191 0 0
    const r = planes(2, 2, 65, 100, 212);
    const px = [...yuv420ToRgb(r.data, r.layout, 2, 2, 'I420', 'bt601', false).data.slice(0, 3)];
    [191, 0, 0].forEach((v, i) => expect(Math.abs(px[i] - v)).toBeLessThanOrEqual(1)); // ±1: ffmpeg rounds via tables
    // the same YUV read as BT.709 is a different red: the matrix matters
    const px709 = [...yuv420ToRgb(r.data, r.layout, 2, 2, 'I420', 'bt709', false).data.slice(0, 3)];
    expect(Math.abs(px709[1] - px[1])).toBeGreaterThan(10);
  });
  it('full range: Y 0 → 0, Y 255 → 255', () => {
    const w = planes(2, 2, 255, 128, 128);
    expect([...yuv420ToRgb(w.data, w.layout, 2, 2, 'I420', 'bt601', true).data.slice(0, 3)]).toEqual([255, 255, 255]);
  });
  it('rotates clockwise', () => {
    // 3×2 image, pixel value = its index: [0 1 2; 3 4 5] → 90° cw: [3 0; 4 1; 5 2]
    const img = { width: 3, height: 2, data: new Uint8Array([0, 1, 2, 3, 4, 5].flatMap((v) => [v, v, v])) };
    const r90 = rotateRgb(img, 90);
    expect([r90.width, r90.height]).toEqual([2, 3]);
    expect([...r90.data].filter((_, i) => i % 3 === 0)).toEqual([3, 0, 4, 1, 5, 2]);
    expect([...rotateRgb(img, 180).data].filter((_, i) => i % 3 === 0)).toEqual([5, 4, 3, 2, 1, 0]);
    expect([...rotateRgb(img, 270).data].filter((_, i) => i % 3 === 0)).toEqual([2, 5, 1, 4, 0, 3]);
  });
});

describe('downmix', () => {
  it('stereo is the mean; 5.1 follows ffmpeg’s matrix normalised to 1 (LFE dropped)', () => {
    expect(downmixWeights(2)).toEqual([0.5, 0.5]);
    const w = downmixWeights(6);
    const s = 2 * Math.SQRT1_2 + 1 + 1; // FL FR FC BL BR
    [Math.SQRT1_2 / s, Math.SQRT1_2 / s, 1 / s, 0, 0.5 / s, 0.5 / s].forEach((x, i) => expect(w[i]).toBeCloseTo(x, 12));
    const out = downmix([new Float32Array([1, 0]), new Float32Array([0, 1])]);
    expect([...out]).toEqual([0.5, 0.5]);
  });
});

describe('StreamingResampler', () => {
  it('keeps DC and a 440 Hz tone, with the output aligned at t = 0', () => {
    const n = 48000;
    const x = new Float32Array(n).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 48000));
    const y = resample(x, 48000, 16000);
    expect(y.length).toBe(16000);
    for (let i = 100; i < 15900; i += 997) expect(y[i]).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000), 3);
    const dc = resample(new Float32Array(8000).fill(0.25), 8000, 16000);
    expect(dc[8000]).toBeCloseTo(0.25, 6);
  });
  it('removes content above the new Nyquist (7 kHz passes, 9 kHz is gone)', () => {
    const tone = (f: number) => new Float32Array(44100).map((_, i) => Math.sin((2 * Math.PI * f * i) / 44100));
    const rms = (a: Float32Array) => Math.sqrt(a.slice(1000, -1000).reduce((s, v) => s + v * v, 0) / (a.length - 2000));
    expect(rms(resample(tone(7000), 44100, 16000))).toBeGreaterThan(0.65);
    expect(rms(resample(tone(9000), 44100, 16000))).toBeLessThan(0.001);
  });
  it('gives the same samples whether fed at once or in odd blocks', () => {
    const x = new Float32Array(30000).map(() => Math.random() * 2 - 1);
    const whole = resample(x, 44100, 16000);
    const r = new StreamingResampler(44100, 16000);
    const parts: Float32Array[] = [];
    for (let s = 0; s < x.length; s += 1234) parts.push(r.push(x.subarray(s, s + 1234)));
    parts.push(r.flush());
    const joined = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    expect(joined.length).toBe(whole.length);
    expect(meanAbsDiff(new Uint8Array(joined.buffer), new Uint8Array(whole.buffer))).toBe(0);
  });
});

describe('StreamingResampler: WebAssembly SIMD kernel', () => {
  it('is the module resample-wasm.gen.py assembles', () => {
    const py = spawnSync('python3', [join(import.meta.dirname, 'resample-wasm.gen.py')], { encoding: 'utf8' });
    if (py.status !== 0) return; // no python3: nothing to compare
    const src = readFileSync(join(import.meta.dirname, 'resample-wasm.ts'), 'utf8');
    expect(src).toContain(`'${py.stdout.trim()}'`);
  });
  it('agrees with the scalar loop within 1e-6 at every rate (f32 against f64 sums)', () => {
    for (const rate of [8000, 22050, 44100, 48000, 96000]) {
      const x = new Float32Array(rate).map((_, i) => 0.6 * Math.sin(i * 0.37) + 0.3 * Math.sin(i * 0.011));
      const simd = new StreamingResampler(rate, 16000);
      const scalar = new StreamingResampler(rate, 16000, { simd: false });
      const a = [simd.push(x), simd.flush()];
      const b = [scalar.push(x), scalar.flush()];
      const ya = new Float32Array([...a[0], ...a[1]]);
      const yb = new Float32Array([...b[0], ...b[1]]);
      expect(ya.length).toBe(yb.length);
      let worst = 0;
      for (let i = 0; i < ya.length; i++) worst = Math.max(worst, Math.abs(ya[i] - yb[i]));
      expect(worst, `${rate} Hz`).toBeLessThan(1e-6);
      expect(worst, `${rate} Hz: the kernel ran`).toBeGreaterThan(0);
    }
  });
});

describe('AudioStreamAssembler and DecoderClock', () => {
  /** A stand-in for AudioData: planar f32 channels. */
  const chunk = (sampleRate: number, planes: number[][]) => ({
    sampleRate,
    numberOfFrames: planes[0].length,
    numberOfChannels: planes.length,
    copyTo(dst: Float32Array, o: { planeIndex: number; frameOffset?: number; frameCount?: number }) {
      const off = o.frameOffset ?? 0;
      dst.set(planes[o.planeIndex].slice(off, off + (o.frameCount ?? planes[0].length - off)));
    },
  });
  const plan = planAudio({ audioSamples: 300, videoRealTime: null, minSeconds: 0 }, { sampleRate: 1000, windowSeconds: 0.1 });
  const sig = (n: number, v: number) => new Array<number>(n).fill(v);
  it('channel 0 takes the first channel, mix the ffmpeg downmix; priming before t = 0 is dropped', () => {
    const run = (channel: 0 | 'mix') => {
      const a = new AudioStreamAssembler(plan, channel);
      // 2 samples of priming at −2 ms, then 200 samples of signal in two chunks (1 kHz in and out)
      return [
        ...a.write(-0.002, chunk(1000, [[9, 9, ...sig(100, 1)], [7, 7, ...sig(100, 3)]])),
        ...a.write(0.1, chunk(1000, [sig(100, 1), sig(100, 3)])),
        ...a.finish(),
      ];
    };
    const c0 = run(0);
    const mix = run('mix');
    expect(c0.map((w) => w.samples.length)).toEqual([100, 100, 100]);
    expect(c0[1].samples[0]).toBeCloseTo(1, 3); // the left channel's level, away from the edges
    expect(mix[1].samples[0]).toBeCloseTo(2, 3); // (1 + 3) / 2
    expect(Math.max(...c0[2].samples.subarray(50).map(Math.abs))).toBe(0); // past the signal: zeros
    // the same as the streaming resampler run on the left channel without its priming
    const r = new StreamingResampler(1000, 1000);
    const ref = new Float32Array(300);
    const head = r.push(new Float32Array(200).fill(1));
    ref.set(head);
    ref.set(r.flush().subarray(0, 300 - head.length), head.length);
    const got = new Float32Array(300);
    c0.forEach((w) => got.set(w.samples, w.start));
    expect(meanAbsDiff(new Uint8Array(got.buffer), new Uint8Array(ref.buffer))).toBe(0);
  });
  it('DecoderClock: moves the first output to the first packet time, runs on by length, re-syncs on gaps', () => {
    const c = new DecoderClock(-0.021333);
    expect(c.next(0, 1024, 48000)).toBeCloseTo(-1024 / 48000, 6); // Chromium put the priming packet at 0
    expect(c.next(0.021333, 1024, 48000)).toBeCloseTo(0, 6);
    expect(c.next(1.5, 1024, 48000)).toBeCloseTo(1.5 - 0.021333, 4); // a gap: re-synced
  });
});

describe('WindowAssembler and TimelineAligner', () => {
  it('cuts a stream into the plan’s windows and zero-pads the tail', () => {
    const plan = planAudio({ audioSamples: 25, videoRealTime: null, minSeconds: 0 }, { sampleRate: 1, windowSeconds: 10 });
    const asm = new WindowAssembler(plan);
    const got = [...asm.write(new Float32Array(12).fill(1)), ...asm.write(new Float32Array(5).fill(2)), ...asm.finish()];
    expect(got.map((w) => w.samples.length)).toEqual([10, 10, 5]);
    expect([...got[1].samples]).toEqual([1, 1, 2, 2, 2, 2, 2, 0, 0, 0]);
    expect([...got[2].samples]).toEqual([0, 0, 0, 0, 0]);
    expect(got.map((w) => w.start)).toEqual([0, 10, 20]);
  });
  it('drops AAC priming before t = 0, fills gaps, ignores 1-sample jitter', () => {
    const al = new TimelineAligner(1000);
    expect([...al.place(-0.002, new Float32Array([9, 9, 1, 2]))]).toEqual([1, 2]);
    expect([...al.place(0.003, new Float32Array([3]))]).toEqual([3]); // 1 sample late: jitter
    expect([...al.place(0.006, new Float32Array([4]))]).toEqual([0, 0, 0, 4]); // 3-sample gap (> 2): zeros
  });
});

describe('planMedia, errors, sniffing', () => {
  const info = (over: Partial<MediaInfo>): MediaInfo => ({ name: 'x.mp4', bytes: 1, container: 'MP4', duration: 12, video: null, audio: null, ...over });
  it('plans audio only for an audio-only file', () => {
    const p = planMedia(
      info({ audio: { codec: 'aac', codecString: null, sampleRate: 44100, channels: 1, firstTimestamp: 0, duration: 12, decodable: true } }),
      { fps: 1, maxFrames: 30, minFrames: 2 },
      { sampleRate: 16000, windowSeconds: 30 },
    );
    expect(p.frames).toBeNull();
    expect(p.audio!.totalSamples).toBe(192000);
  });
  it('no tracks → media/no-tracks', () => {
    expect(() => planMedia(info({}), { fps: 1, maxFrames: 30, minFrames: 2 }, { sampleRate: 16000, windowSeconds: 30 })).toThrow(
      expect.objectContaining({ code: 'media/no-tracks' }),
    );
  });
  it('unsupported codec message names the codec, the file and the fix', () => {
    const e = unsupportedCodecError('video', 'hevc', 'hvc1.1.6.L93.B0', 'clip.mov');
    expect(e.code).toBe('media/unsupported-codec');
    expect(e.message).toContain('HEVC');
    expect(e.message).toContain('hvc1');
    expect(e.message).toContain('clip.mov');
    expect(e.message).toContain('libx264');
    const m = unsupportedCodecError('video', 'mp4v', 'mp4v', 'old camera.mov');
    expect(m.message).toContain('is MPEG-4 Part 2 (mp4v), which this browser cannot decode');
    expect(m.message).toContain('ffmpeg -i "old camera.mov" -c:v libx264 -c:a aac "old camera-h264.mp4"');
  });
  it('sniffs images, text and containers', () => {
    const b = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
    expect(sniffKind(b('\x89PNG\r\n\x1a\n....')).kind).toBe('a PNG image');
    expect(sniffKind(b('\0\0\0\x20ftypisom')).video).toBe(true);
    expect(sniffKind(b('hello, this is text\n')).kind).toBe('a text file');
    expect(sniffKind(new Uint8Array([1, 2, 3, 0, 250, 7, 0, 0])).video).toBe(false);
  });
});
