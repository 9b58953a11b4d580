/**
 * Python's rounding and float printing, for the numbers the checkpoint computes in Python
 * (PIPELINE §1 time tokens `str(round(T/F·f, 1))`, the frame step `round(fps/φ)`, §4's
 * `round(T·50)`). One implementation for the whole core.
 */

/**
 * Python's round(x) (no ndigits): the nearest integer, exact halves to the even one
 * (round(2.5) = 2, round(3.5) = 4). x − trunc(x) is exact for doubles, so the tie test is.
 */
export function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Exact value of a finite double as mantissa · 2^exponent (BigInt mantissa, sign included). */
function exactParts(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (biased === 0) e = -1074; // subnormal
  else {
    m |= 1n << 52n;
    e = biased - 1075;
  }
  return { mantissa: sign * m, exponent: e };
}

/**
 * Python's round(x, ndigits) for floats: the exact binary value of x rounded to `ndigits`
 * decimals, exact ties to even, then the nearest double (CPython's double_round via dtoa).
 * So round(0.15, 1) = 0.1 (0.15 is 0.1499999…), round(0.25, 1) = 0.2 (an exact tie → even),
 * round(0.35, 1) = 0.3, round(2.675, 2) = 2.67.
 */
export function pythonRoundTo(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (!Number.isInteger(ndigits) || ndigits < 0 || ndigits > 300) throw new RangeError(`ndigits ${ndigits} is not supported`);
  const { mantissa, exponent } = exactParts(x);
  const scale = 10n ** BigInt(ndigits);
  // x · 10^n = mantissa · 10^n · 2^exponent = num / den
  let num = mantissa * scale;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  const neg = num < 0n;
  if (neg) num = -num;
  let q = num / den;
  const twiceRem = (num % den) * 2n;
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  const result = Number(`${neg ? '-' : ''}${q}e-${ndigits}`); // correctly rounded decimal → double
  return result === 0 && neg ? -0 : result;
}

/**
 * Python's str(float) / repr(float): the shortest digits that round-trip (as JS), written
 * as Python does — fixed notation for 1e-4 ≤ |x| < 1e16 with at least one decimal
 * ("10.0", "2.5"), else "1e+16" / "1.5e-05" style; "nan", "inf", "-0.0".
 */
export function pythonFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = Math.abs(x).toExponential().split('e'); // shortest round-trip digits
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  const sign = x < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    // fixed: the point goes after digit exp (negative: leading zeros)
    let s: string;
    if (exp < 0) s = `0.${'0'.repeat(-exp - 1)}${digits}`;
    else if (digits.length <= exp + 1) s = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    else s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    return sign + s;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}
