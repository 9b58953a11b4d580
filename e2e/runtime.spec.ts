import { expect, test, type Page } from '@playwright/test';
import type { GoldenRequest, GoldenResult } from './harness/golden-worker';

/**
 * The runtime in real Chromium against the PyTorch goldens of the tiny bundle: the same
 * token ids, layouts and prompt lengths on WASM and on the software WebGPU adapter. A
 * token may differ only where the reference's top-2 logit margin was within the tolerance.
 */
const MARGIN_TOLERANCE = 1e-3;

async function runGolden(page: Page, req: GoldenRequest): Promise<GoldenResult> {
  await page.goto('/e2e/harness/golden.html');
  await expect(page.getByTestId('status')).toHaveText('ready');
  return page.evaluate((r) => window.runGolden(r), req);
}

function expectParity(result: GoldenResult) {
  expect(result.error).toBeUndefined();
  expect(result.runs.length).toBeGreaterThan(0);
  for (const run of result.runs) {
    expect.soft(run.layoutOk, `${run.name}: layout`).toBe(true);
    expect.soft(run.promptTokensOk, `${run.name}: prompt length`).toBe(true);
    expect.soft(run.framesOk, `${run.name}: frame timestamps`).toBe(true);
    for (const [name, mismatch] of Object.entries(run.tensors)) expect.soft(mismatch, `${run.name}: ${name} vs PyTorch`).toBeNull();
    expect.soft(Object.keys(run.tensors).length, `${run.name}: intermediate tensors checked`).toBeGreaterThan(0);
    if (run.promptIdsOk !== undefined) expect.soft(run.promptIdsOk, `${run.name}: prompt ids of the variant`).toBe(true);
    if (run.timeTokensOk !== undefined) expect.soft(run.timeTokensOk, `${run.name}: time tokens`).toBe(true);
    expect.soft(run.comparison.ok, `${run.name}: diverged at step ${run.comparison.divergedAt} (reference margin ${run.comparison.referenceMargin})`).toBe(true);
  }
}

test('WASM: every golden case and run gives the reference tokens, under both run set-ups', async ({ page }) => {
  test.setTimeout(420_000);
  const result = await runGolden(page, { prefer: 'wasm', marginTolerance: MARGIN_TOLERANCE, setup: true });
  expect(Object.values(result.backends)).toEqual(['wasm', 'wasm', 'wasm', 'wasm', 'wasm']);
  expectParity(result);
  expect(result.runs).toHaveLength(16 + 18); // 4 legacy runs per case; 4 setup runs per case + a penalty run + a checkpoint-preset run
  // With margins ≥ 0.018 in the reference, WASM must agree everywhere.
  for (const run of result.runs) expect(run.ids, run.name).toEqual(run.expectedIds);
});

test('WebGPU (software adapter): golden runs give the reference tokens', async ({ page }) => {
  test.setTimeout(900_000);
  // The software adapter is 20–60× slower than WASM: the legacy runs of one case, and of its setup runs the visual-only one (time tokens) and the penalty one.
  const result = await runGolden(page, { prefer: 'webgpu', cases: ['synthetic_4.5s'], marginTolerance: MARGIN_TOLERANCE, setup: true, setupKinds: ['video', 'penalty'] });
  expect(result.adapter).not.toBeNull();
  expect(result.backends.decoder_model_merged).toBe('webgpu');
  expect(result.backends.vision_encoder).toBe('webgpu');
  expect(result.backends.embed_tokens).toBe('wasm');
  expectParity(result);
  expect(result.runs).toHaveLength(4 + 2); // legacy + setup runs (time tokens; penalty 1.1), both with the official prompt
});
