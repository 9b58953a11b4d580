import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { floatTensor, fromHalfBits, int64Tensor, readFloat32, toHalfBits, type Ort } from './ort';

describe('IEEE binary16 conversion (fp16 KV caches and activations on platforms without Float16Array)', () => {
  it.each([
    // value,               bits     (sign | exponent | mantissa, worked by hand)
    [1, 0x3c00], // 0 01111 0000000000
    [-2, 0xc000], // 1 10000 0000000000
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half: (2 − 2^−10)·2^15
    [65520, 0x7c00], // halfway to 2^16 rounds (to even) up to +Inf
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it: ties to even → 0
    [1.5 * 2 ** -25, 0x0001], // above the tie → 1 ulp
    [3 * 2 ** -25, 0x0002], // 1.5 ulp: tie → even (2)
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^−10 → even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^−10 and 1+2^−9 → even (…02)
    [0.1, 0x2e66], // 0.1 = 1.6·2^−4; 0.6·1024 = 614.4 → 614 = 0x266; exponent 11 → 0x2e66
    [Infinity, 0x7c00],
    [-0, 0x8000],
  ])('%d ↔ 0x%s', (value, bits) => {
    expect(toHalfBits(value)).toBe(bits);
  });

  it('reads bits back exactly', () => {
    expect(fromHalfBits(0x3555)).toBe(0.333251953125); // 1 + 341/1024 = 1.3330078125, × 2^−2
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(fromHalfBits(0x7bff)).toBe(65504);
    expect(fromHalfBits(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(fromHalfBits(0x7e00))).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(toHalfBits(fromHalfBits(h))).toBe(h); // every finite half round-trips
  });

  it('makes float16 / int64 tensors onnxruntime accepts and reads float16 back as float32', async () => {
    const ort = ortNode as unknown as Ort;
    const t = floatTensor(ort, new Float32Array([1, 0.1, -2]), [3], 'float16');
    expect(t.type).toBe('float16');
    expect(Array.from(await readFloat32(t))).toEqual([1, fromHalfBits(0x2e66), -2]);
    expect(Array.from(int64Tensor(ort, [0, 5, 2 ** 40], [3]).data as BigInt64Array)).toEqual([0n, 5n, 2n ** 40n]);
  });
});
