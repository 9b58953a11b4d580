/**
 * H.264 (AVC) non-reference pictures: a packet whose slices all have nal_ref_idc == 0 is
 * never used to predict another picture (ISO/IEC 14496-10 §7.4.1), so a decoder that only
 * needs some later frame can be spared it — the other pictures decode to the same bytes
 * (what ffmpeg's `-skip_frame nonref` does). Used by browser.ts on the way from a keyframe
 * to a planned frame. Pure byte parsing (no DOM), conservative: anything unexpected — a
 * NAL unit that changes the decoder's state (parameter sets, end of sequence, data
 * partitions, SVC/MVC extensions), a referenced slice, a malformed length — says "feed it".
 */

/** NAL unit types that may sit in a skippable packet: 1 (non-IDR slice), SEI, AUD, filler. */
const SKIPPABLE_NAL = new Set([1, 6, 9, 12]);

/**
 * The NAL length-field size (1, 2 or 4 bytes) from an avcC record (AVCDecoderConfigurationRecord,
 * WebCodecs' `description`); null without a record (the stream is Annex B) or when the record
 * is not one.
 */
export function avcLengthSize(description: Uint8Array | null | undefined): number | null {
  if (!description || description.length < 7 || description[0] !== 1) return null;
  const n = (description[4] & 0x03) + 1;
  return n === 3 ? null : n;
}

/** The first byte (header) of each NAL unit of an AVCC packet; null when a length runs past the end. */
export function avccNalHeaders(data: Uint8Array, lengthSize: number): number[] | null {
  const out: number[] = [];
  let o = 0;
  while (o < data.length) {
    if (o + lengthSize > data.length) return null;
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + data[o + i];
    o += lengthSize;
    if (len === 0 || o + len > data.length) return null;
    out.push(data[o]);
    o += len;
  }
  return out;
}

/** The first byte of each NAL unit of an Annex B packet (start codes 00 00 01 / 00 00 00 01). */
export function annexBNalHeaders(data: Uint8Array): number[] | null {
  const out: number[] = [];
  let i = 0;
  let found = false;
  while (i + 3 <= data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      i += 3;
      if (i >= data.length) return null;
      out.push(data[i]);
      found = true;
    } else i++;
  }
  return found ? out : null;
}

/**
 * Whether this packet is a non-reference picture: it has at least one slice, every slice is
 * a non-IDR slice (type 1) with nal_ref_idc 0, and the other NAL units are SEI, access unit
 * delimiters or filler. `lengthSize` null: Annex B.
 */
export function isNonReferenceAvc(data: Uint8Array, lengthSize: number | null): boolean {
  const headers = lengthSize === null ? annexBNalHeaders(data) : avccNalHeaders(data, lengthSize);
  if (!headers || headers.length === 0) return false;
  let slices = 0;
  for (const h of headers) {
    if (h & 0x80) return false; // forbidden_zero_bit: not H.264 as we know it
    const type = h & 0x1f;
    if (!SKIPPABLE_NAL.has(type)) return false;
    if (type === 1) {
      if ((h & 0x60) !== 0) return false; // nal_ref_idc != 0: referenced
      slices++;
    }
  }
  return slices > 0;
}
