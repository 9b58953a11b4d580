import { describe, expect, it } from 'vitest';
import { pythonFloatStr, pythonRound, pythonRoundTo } from './pyround';

describe('pythonRound (round(x), no ndigits)', () => {
  it.each([
    // [x, Python round(x)]: exact halves go to the even neighbour
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [22.5, 22], [-1.5, -2], [-2.5, -2],
    [2.4, 2], [2.6, 3], [29.97, 30], [7, 7], [12.5, 12],
  ])('round(%s) = %s', (x, r) => expect(pythonRound(x)).toBe(r));
});

describe('pythonRoundTo (round(x, n) on the exact binary value)', () => {
  // The exact decimal values of the doubles (they decide, not the literal):
  //   0.15  = 0.1499999999999999944488848768742172978818416595458984375 → 0.1
  //   0.25  = 0.25 exactly, a tie: 2.5 tenths → even 2 → 0.2
  //   0.35  = 0.34999999999999997779553950749686919152736663818359375 → 0.3
  //   0.45  = 0.450000000000000011102230246251565404236316680908203125 → 0.5
  //   0.75  = exact tie 7.5 tenths → even 8 → 0.8;  0.375 = 3.75 tenths → 0.4
  //   1.25  = exact tie 12.5 tenths → 12 → 1.2
  //   1.35  = 1.350000000000000088817841970012523233890533447265625 → 1.4
  //   2.675 = 2.67499999999999982236431605997495353221893310546875 → (2 digits) 2.67
  //   10/3  = 3.333333333333333481363069950020872056484222412109375 → 3.3
  it.each([
    [0.15, 1, 0.1], [0.25, 1, 0.2], [0.35, 1, 0.3], [0.45, 1, 0.5], [0.75, 1, 0.8], [0.375, 1, 0.4],
    [1.25, 1, 1.2], [1.35, 1, 1.4], [2.675, 2, 2.67], [10 / 3, 1, 3.3], [15.5, 1, 15.5], [7199.999999999999, 1, 7200],
    [-0.25, 1, -0.2], [-0.35, 1, -0.3], [1e20, 1, 1e20], [0.04, 1, 0],
  ])('round(%s, %s) = %s', (x, n, r) => expect(pythonRoundTo(x, n)).toBe(r));

  it('keeps 0, -0, inf and nan', () => {
    expect(Object.is(pythonRoundTo(-0, 1), -0)).toBe(true);
    expect(Object.is(pythonRoundTo(-0.04, 1), -0)).toBe(true); // Python: round(-0.04, 1) == -0.0
    expect(pythonRoundTo(Infinity, 1)).toBe(Infinity);
    expect(pythonRoundTo(NaN, 1)).toBeNaN();
  });
});

describe('pythonFloatStr (str(float))', () => {
  it.each([
    [10, '10.0'], [0, '0.0'], [-0, '-0.0'], [2.5, '2.5'], [0.1, '0.1'], [7200, '7200.0'], [100, '100.0'],
    [0.30000000000000004, '0.30000000000000004'], [0.0001, '0.0001'], [0.00001, '1e-05'], [1.5e-5, '1.5e-05'],
    [123456789012345.6, '123456789012345.6'], [1e15, '1000000000000000.0'], [1e16, '1e+16'], [1.5e16, '1.5e+16'],
    [1e22, '1e+22'], [-65.5, '-65.5'], [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'],
  ])('str(%s) = %s', (x, s) => expect(pythonFloatStr(x)).toBe(s));
});
