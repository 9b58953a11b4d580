/**
 * The lite family (LLaVA-OneVision + Whisper transcript + AST sound tags) in Chromium, on its
 * contract-identical fixture (npm run models:lite-fixture) served from public/bundles/lite-fixture/
 * and loaded by the app's URL loader in a module worker: frames, transcript and sound-tag pieces
 * among them, a streamed caption — on WASM, and on WebGPU when asked for explicitly (Chromium's adapter here is a
 * software one). The same run in Node is src/core/families/lite.test.ts.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { LiteResult } from './harness/lite-worker';
import { FIXTURES } from './harness/run';

async function runLite(page: Page, prefer: 'wasm' | 'webgpu', maxNewTokens: number, maxFrames?: number): Promise<LiteResult> {
  await page.goto('/e2e/harness/lite.html');
  await expect(page.getByTestId('status')).toHaveText('ready');
  await page.evaluate((r) => (window.__liteRequest = r), { prefer, maxNewTokens, maxFrames });
  await page.setInputFiles('#file', join(FIXTURES, 'h264_aac.mp4'));
  await expect(page.getByTestId('status')).toHaveText('done', { timeout: 400_000 });
  return page.evaluate(() => window.__lite!);
}

function expectCaption(r: LiteResult, maxNewTokens: number, frames = 12, minTextFrames = 3) {
  expect(r.error).toBeUndefined();
  expect(r.family).toBe('llava-onevision-whisper');
  expect(r.label).toMatch(/not video-SALMONN 2/);
  const report = r.report!;
  expect(report.frames).toHaveLength(frames);
  expect(report.layout.every((e) => e.visualTokens === 196 && e.audioTokens === 0)).toBe(true);
  const withText = report.layout.filter((e) => (e.textTokens?.transcript ?? 0) > 0).map((e) => e.frame!);
  expect(withText.length).toBeGreaterThanOrEqual(minTextFrames); // transcript pieces spread over the clip, after their frames
  expect([...withText].sort((a, b) => a - b)).toEqual(withText);
  expect(report.generatedTokenIds.length).toBeGreaterThan(0);
  expect(report.generatedTokenIds.length).toBeLessThanOrEqual(maxNewTokens);
  expect(r.deltas!.join('')).toBe(report.caption);
  // the sound tagger: one tagged 10-s window at 0 s and one at 10 s, each piece after the frames shown by its start
  expect(report.sounds!.map((w) => [w.start, w.end])).toEqual([[0, 10], [10, 12]]);
  expect(report.sounds!.every((w) => w.labels.length >= 1 && w.labels.length <= 3)).toBe(true);
  const times = report.frames.map((f) => f.timestamp);
  const lastShownBy = (t: number) => times.filter((x) => x <= t + 1e-9).length - 1;
  const soundFrames = report.layout.filter((e) => (e.textTokens?.sounds ?? 0) > 0).map((e) => e.frame);
  expect(soundFrames).toEqual([...new Set([lastShownBy(0), lastShownBy(10)])]);
}

test('WASM: the lite fixture captions an mp4 in the worker through the URL loader', async ({ page }) => {
  test.setTimeout(420_000);
  const r = await runLite(page, 'wasm', 8);
  expectCaption(r, 8);
  expect(Object.values(r.backends!)).toEqual(['wasm', 'wasm', 'wasm', 'wasm', 'wasm', 'wasm']);
});

test('WebGPU (explicit): the lite fixture captions the same mp4 with the GPU graphs on WebGPU', async ({ page }) => {
  test.setTimeout(600_000);
  // three frames: the software adapter is 20–60× slower than WASM
  const r = await runLite(page, 'webgpu', 4, 3);
  test.skip(r.error?.code === 'runtime/session-create' && /webgpu/i.test(r.error.message), 'no WebGPU in this Chromium');
  expectCaption(r, 4, 3, 2);
  // graphs the manifest places on the GPU run there; embed_tokens, the Whisper decoder and the sound tagger are CPU-placed (WASM)
  expect(r.backends).toMatchObject({ vision_encoder: 'webgpu', decoder_model_merged: 'webgpu', speech_encoder: 'webgpu', embed_tokens: 'wasm', speech_decoder: 'wasm', sound_tagger: 'wasm' });
});
