/**
 * The H.264 non-reference test (avc-ref.ts) on hand-written packets, and on the fixtures'
 * packets (mediabunny in Node) against ffmpeg's own reading of nal_ref_idc (trace_headers).
 * Fixture tests need `bash e2e/fixtures/make-fixtures.sh` and ffmpeg.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_FORMATS, BufferSource, EncodedPacketSink, Input } from 'mediabunny';
import { annexBNalHeaders, avccNalHeaders, avcLengthSize, isNonReferenceAvc } from './avc-ref';

/** AVCC packet from NAL units (each given as its bytes), lengths in `size` bytes. */
function avcc(size: number, ...nals: number[][]): Uint8Array {
  const out: number[] = [];
  for (const n of nals) {
    for (let i = size - 1; i >= 0; i--) out.push((n.length >> (8 * i)) & 0xff);
    out.push(...n);
  }
  return new Uint8Array(out);
}

describe('avcLengthSize', () => {
  it('reads lengthSizeMinusOne from an avcC record', () => {
    expect(avcLengthSize(new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0]))).toBe(4);
    expect(avcLengthSize(new Uint8Array([1, 0x64, 0, 0x1f, 0xfd, 0xe1, 0]))).toBe(2);
    expect(avcLengthSize(new Uint8Array([1, 0x64, 0, 0x1f, 0xfc, 0xe1, 0]))).toBe(1);
  });
  it('null without a record (Annex B), for a 3-byte size and for what is not a record', () => {
    expect(avcLengthSize(undefined)).toBeNull();
    expect(avcLengthSize(new Uint8Array([1, 0x64, 0, 0x1f, 0xfe, 0xe1, 0]))).toBeNull();
    expect(avcLengthSize(new Uint8Array([0, 0, 0, 1, 0x67]))).toBeNull();
  });
});

describe('NAL unit headers', () => {
  it('AVCC with 4-, 2- and 1-byte lengths', () => {
    expect(avccNalHeaders(avcc(4, [0x09, 0xf0], [0x01, 0xaa, 0xbb]), 4)).toEqual([0x09, 0x01]);
    expect(avccNalHeaders(avcc(2, [0x06, 1, 2, 3], [0x21, 0]), 2)).toEqual([0x06, 0x21]);
    expect(avccNalHeaders(avcc(1, [0x41, 9]), 1)).toEqual([0x41]);
  });
  it('AVCC: a length past the end or a zero length is malformed (null)', () => {
    expect(avccNalHeaders(new Uint8Array([0, 0, 0, 9, 0x01, 0]), 4)).toBeNull();
    expect(avccNalHeaders(new Uint8Array([0, 0, 0, 0]), 4)).toBeNull();
    expect(avccNalHeaders(new Uint8Array([0, 0]), 4)).toBeNull();
  });
  it('Annex B with 3- and 4-byte start codes', () => {
    expect(annexBNalHeaders(new Uint8Array([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x01, 0x88, 0x84]))).toEqual([0x09, 0x01]);
    expect(annexBNalHeaders(new Uint8Array([0x01, 0x02]))).toBeNull();
  });
});

describe('isNonReferenceAvc', () => {
  it('a non-IDR slice with nal_ref_idc 0 (with SEI / AUD / filler) is skippable', () => {
    expect(isNonReferenceAvc(avcc(4, [0x01, 0x9e, 0x42]), 4)).toBe(true);
    expect(isNonReferenceAvc(avcc(4, [0x09, 0x30], [0x06, 5, 1, 0x80], [0x01, 0x9e], [0x01, 0x11], [0x0c, 0xff]), 4)).toBe(true);
    expect(isNonReferenceAvc(new Uint8Array([0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x01, 0x9e]), null)).toBe(true);
  });
  it('any referenced slice keeps the packet', () => {
    for (const ref of [0x21, 0x41, 0x61]) expect(isNonReferenceAvc(avcc(4, [ref, 0x9a]), 4), `header ${ref}`).toBe(false);
    // two slices, the second referenced
    expect(isNonReferenceAvc(avcc(4, [0x01, 0x9e], [0x41, 0x9a]), 4)).toBe(false);
    // IDR
    expect(isNonReferenceAvc(avcc(4, [0x65, 0x88]), 4)).toBe(false);
  });
  it('parameter sets, end of sequence, data partitions, extensions keep the packet', () => {
    for (const other of [[0x67, 0x64], [0x68, 0xee], [0x0a], [0x0b], [0x02, 0], [0x03, 0], [0x04, 0], [0x0e, 0], [0x14, 0], [0x0f, 0], [0x0d, 0]]) {
      expect(isNonReferenceAvc(avcc(4, other, [0x01, 0x9e]), 4), `NAL ${other[0]}`).toBe(false);
    }
  });
  it('no slice, a malformed packet, the forbidden bit: keep it', () => {
    expect(isNonReferenceAvc(avcc(4, [0x06, 5, 1, 0x80]), 4)).toBe(false);
    expect(isNonReferenceAvc(avcc(4, [0x09, 0x30]), 4)).toBe(false);
    expect(isNonReferenceAvc(new Uint8Array([0, 0, 0, 9, 0x01]), 4)).toBe(false);
    expect(isNonReferenceAvc(new Uint8Array(0), 4)).toBe(false);
    expect(isNonReferenceAvc(avcc(4, [0x81, 0x9e]), 4)).toBe(false);
    // the same bytes read with the wrong length size
    expect(isNonReferenceAvc(avcc(4, [0x01, 0x9e]), 2)).toBe(false);
  });
});

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const OUT = join(import.meta.dirname, '../../../e2e/fixtures/out');

/** Per packet in decode order: whether every slice has nal_ref_idc 0, as ffmpeg's trace_headers reads them. */
function ffmpegNonRef(path: string): boolean[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-i', path, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'trace_headers', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const out: boolean[] = [];
  let pts: number | null = null;
  let ref = 0;
  let slices = 0;
  let nonRef = true;
  const close = () => {
    if (pts !== null) out.push(slices > 0 && nonRef);
  };
  for (const line of r.stderr.split('\n')) {
    const p = /Packet: \d+ bytes,.*?pts (-?\d+)/.exec(line);
    if (p) {
      close();
      pts = Number(p[1]);
      slices = 0;
      nonRef = true;
      continue;
    }
    const idc = /nal_ref_idc\s+\d+ = (\d)/.exec(line);
    if (idc) ref = Number(idc[1]);
    const type = /nal_unit_type\s+\d+ = (\d+)/.exec(line);
    if (type && pts !== null) {
      const t = Number(type[1]);
      if (t >= 1 && t <= 5) {
        slices++;
        if (ref !== 0) nonRef = false;
      } else if (![6, 9, 12].includes(t)) nonRef = false;
    }
  }
  close();
  return out;
}

describe.skipIf(!hasFfmpeg)('fixtures: the packets left out are those ffmpeg reads as non-reference', () => {
  for (const file of ['bframes.mp4', 'h264_aac.mp4', 'h264_vorbis.mkv', 'vfr.mp4', 'rotated.mp4']) {
    const path = join(OUT, file);
    it.skipIf(!existsSync(path))(file, async () => {
      const input = new Input({ source: new BufferSource(readFileSync(path)), formats: ALL_FORMATS });
      const track = (await input.getPrimaryVideoTrack())!;
      const config = (await track.getDecoderConfig())!;
      const desc = config.description as Uint8Array | undefined;
      const lengthSize = avcLengthSize(desc ? new Uint8Array(ArrayBuffer.isView(desc) ? desc.buffer : desc, ArrayBuffer.isView(desc) ? desc.byteOffset : 0, desc.byteLength) : null);
      const expected = ffmpegNonRef(path);
      let skippable = 0;
      let n = 0;
      for await (const p of new EncodedPacketSink(track).packets()) {
        // both in decode order
        const mine = isNonReferenceAvc(p.data, lengthSize);
        expect(mine, `packet ${n} (at ${p.timestamp} s)`).toBe(expected[n]);
        if (mine) skippable++;
        n++;
      }
      expect(n).toBe(expected.length);
      console.log(JSON.stringify({ file, packets: n, nonReference: skippable, lengthSize }));
      if (file === 'bframes.mp4') expect(skippable).toBeGreaterThan(n / 4);
      input.dispose();
    });
  }
});
