import { describe, expect, it } from 'vitest';
import { bilinearPoolGrid } from './pool';

describe('bilinearPoolGrid (torch F.interpolate bilinear, align_corners=False)', () => {
  it('matches torch on 5×5 → 3×3 (values from torch 1.13)', () => {
    const x = Float32Array.from({ length: 25 }, (_, i) => i);
    const y = bilinearPoolGrid(x, 1, 5, 3, 1);
    const torch = [2, 3.6666665, 5.333333, 10.333333, 12, 13.666666, 18.666666, 20.333332, 22];
    y.forEach((v, i) => expect(v).toBeCloseTo(torch[i], 5));
  });

  it('matches torch on LLaVA-OneVision\'s 27×27 → 14×14, two frames, three channels', () => {
    // x[f, y, x, d] = sin(0.37·i + 0.11·f), i the row-major index within the frame (as the python check)
    const F = 2, G = 27, D = 3;
    const x = new Float32Array(F * G * G * D);
    for (let f = 0; f < F; f++) for (let i = 0; i < G * G * D; i++) x[f * G * G * D + i] = Math.sin(0.37 * i + 0.11 * f);
    const y = bilinearPoolGrid(x, F, G, 14, D);
    expect(y.length).toBe(F * 196 * D);
    let sum = 0, abs = 0;
    for (const v of y) { sum += v; abs += Math.abs(v); }
    expect(sum).toBeCloseTo(1.2786042, 3);
    expect(abs).toBeCloseTo(565.26638, 2);
    const at: [number, number][] = [[0, -0.09506419], [1, 0.13993822], [168, 0.70719469], [392, 0.24510218], [588, -0.02510117], [1175, -0.63465339]];
    for (const [i, v] of at) expect(y[i]).toBeCloseTo(v, 5);
  });

  it('refuses features that are not whole frames of the grid', () => {
    expect(() => bilinearPoolGrid(new Float32Array(10), 1, 27, 14, 1)).toThrow(/not 1 frames of 27×27 rows of 1/);
  });
});
