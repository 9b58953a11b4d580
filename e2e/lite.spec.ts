/**
 * The lite family (LLaVA-OneVision + Whisper transcript + AST sound tags) in Chromium, on its
 * contract-identical fixture (npm run models:lite-fixture) served from public/bundles/lite-fixture/
 * and loaded by the app's URL loader in a module worker: frames, transcript and sound-tag pieces
 * among them, a streamed caption — on WASM, and on WebGPU when asked for explicitly (Chromium's adapter here is a
 * software one). The same run in Node is src/core/families/lite.test.ts. Then the app itself with
 * the lite preset loaded straight from huggingface.co, answered from the fixture mirror in the
 * Hub's layout (npm run models:lite-mirror), chosen and run with real clicks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';
import { hubAnswer, MIRROR_DIR } from '../src/core/bundle/hub-mirror.testutil';
import { formatBytes } from '../src/app/lib/format';
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

/**
 * huggingface.co answered from the mirror folder with the Hub's headers (Content-Length,
 * X-Linked-Size/ETag, CORS), and the app's pinned record (models/lite/pins.json) replaced by the
 * mirror's: the same repos, commits and paths, the fixture's sizes and sha256. Returns the log
 * of requests the Hub saw.
 */
async function routeHub(context: BrowserContext): Promise<string[]> {
  const hub: string[] = [];
  await context.route('https://huggingface.co/**', async (route) => {
    const req = route.request();
    const path = decodeURIComponent(new URL(req.url()).pathname);
    hub.push(`${req.method()} ${path}`);
    const a = hubAnswer(MIRROR_DIR, path, req.method());
    await route.fulfill({ status: a.status, headers: a.headers, body: Buffer.from(a.body) });
  });
  const mirrorPins = readFileSync(join(MIRROR_DIR, 'pins.json'), 'utf8');
  await context.route(/\/models\/lite\/pins\.json(\?.*)?$/, (route) => route.fulfill({ contentType: 'text/javascript', body: `export default ${mirrorPins}` }));
  return hub;
}

const LLAVA = '/llava-hf/llava-onevision-qwen2-0.5b-ov-hf/resolve/2c9ba3bdda7dd7bc8de92c66da6f448561ddf7c9';
const WHISPER = '/onnx-community/whisper-base/resolve/0dc963c325ab2554e6dcedbb458decbffb4dc5b1';
/** The q8 variant's reason where q4 is passed over for the WASM decoders (the variant table: hub-preset.test.ts). */
const q8Reason = (why: string) => `q8: it needs no GPU feature (passed over: q4, because its decoders would run on WASM, which has no 4-bit kernels (4-bit kernels: WebGPU or Node), as ${why}).`;

test('App: the lite preset loads straight from huggingface.co (answered from the fixture mirror), captions on WASM, and a reload downloads nothing', async ({ page, context }) => {
  test.setTimeout(420_000);
  const hub = await routeHub(context);

  await page.goto('/');
  await expect(page.locator('#preset')).toHaveValue('lite'); // a new user's default
  const note = page.getByTestId('preset-note');
  await expect(note).toContainText('not video-SALMONN 2');
  await expect(note).toContainText('non-speech sound');
  await expect(page.getByTestId('preset-facts')).toContainText('Apache-2.0');
  await expect(page.getByTestId('preset-facts')).toContainText(/about 982 MB from huggingface\.co at pinned revisions \(llava-hf\/llava-onevision-qwen2-0\.5b-ov-hf@2c9ba3b, onnx-community\/whisper-base@0dc963c, Xenova\/ast-finetuned-audioset-10-10-0\.4593@249a1fb\)/);
  await page.getByTestId('force-wasm').check();
  await page.getByLabel('Max new tokens').fill('4');
  await page.getByTestId('file-input').setInputFiles(join(FIXTURES, 'h264_aac.mp4'));
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('stage-bundle')).toContainText(/\d+(\.\d)? MB of \d+(\.\d)? MB · downloading/); // progress in bytes, from the network
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 300_000 });
  await expect(page.getByTestId('model-name')).toContainText('Lite fixture from the Hub layout (q8, random weights)');
  await expect(page.getByTestId('model-label')).toHaveText('LLaVA-OneVision-Qwen2-0.5B + Whisper transcript (lite; not video-SALMONN 2)');
  await expect(page.getByTestId('model-variant')).toHaveText(q8Reason('WASM was chosen in the settings')); // the mirror has q4 and q8
  expect(hub).toContain(`GET ${LLAVA}/onnx/vision_encoder_q4.onnx`);
  expect(hub).toContain(`GET ${LLAVA}/onnx/decoder_model_merged_quantized.onnx`);
  expect(hub).toContain(`GET ${WHISPER}/onnx/decoder_model_merged_quantized.onnx`);
  expect(hub.length).toBe(new Set(hub).size); // each file once

  await page.getByTestId('caption-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(page.getByTestId('caption-text')).not.toBeEmpty();

  hub.length = 0;
  await page.reload();
  await expect(page.locator('#preset')).toHaveValue('lite');
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 300_000 });
  expect(hub).toEqual([]); // bundle.json built once and cached with the files: nothing asked of the Hub

  // Cached models lists the preset's files as one model, with the pinned revisions and their total size.
  const hubEntries = () =>
    page.evaluate(async () => {
      const cache = await caches.open('salmonn-bundles-v1');
      const urls = (await cache.keys()).map((r) => r.url).filter((u) => u.startsWith('https://huggingface.co/'));
      let bytes = 0;
      for (const u of urls) bytes += (await (await cache.match(u))!.blob()).size;
      return { files: urls.length, bytes, manifests: urls.filter((u) => u.endsWith('.bundle.json')).length };
    });
  const cached = await hubEntries();
  expect(cached.manifests).toBe(1); // the built manifest, beside the files
  const item = page.getByTestId('cached-preset');
  await expect(item).toContainText(`Lite: LLaVA-OneVision 0.5B + Whisper transcript + AudioSet tags (not video-SALMONN 2) · ${formatBytes(cached.bytes)} · ${cached.files} files`);
  await expect(item).toContainText('llava-hf/llava-onevision-qwen2-0.5b-ov-hf@2c9ba3b, onnx-community/whisper-base@0dc963c, Xenova/ast-finetuned-audioset-10-10-0.4593@249a1fb');
  // Delete asks first; Keep keeps it; confirmed, the list and the Cache API hold none of it.
  await item.getByRole('button', { name: /Delete cached model Lite/ }).click();
  await expect(item).toContainText(`Delete ${formatBytes(cached.bytes)}? The next load downloads it again.`);
  await item.getByRole('button', { name: 'Keep' }).click();
  expect((await hubEntries()).files).toBe(cached.files);
  await item.getByRole('button', { name: /Delete cached model Lite/ }).click();
  await page.getByTestId('confirm-delete-preset').click();
  await expect(page.getByTestId('cached-preset')).toHaveCount(0);
  expect(await hubEntries()).toEqual({ files: 0, bytes: 0, manifests: 0 });
  // The next load downloads it again.
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 300_000 });
  expect(hub).toContain(`GET ${LLAVA}/onnx/vision_encoder_q4.onnx`);
  await expect(page.getByTestId('cached-preset')).toContainText(`${cached.files} files`);
});

test('App, in a Chromium without a WebGPU adapter: the lite preset takes the q8 variant (int8 decoders: WASM has no 4-bit kernels) and captions', async ({ playwright, baseURL }) => {
  test.setTimeout(420_000);
  // Chromium here offers no adapter without --enable-unsafe-webgpu (navigator.gpu is there, requestAdapter() gives null)
  const browser = await playwright.chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs.filter((a) => a !== '--enable-unsafe-webgpu') });
  try {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    const hub = await routeHub(context);
    await page.goto('/');
    expect(await page.evaluate(async () => (await (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()) ?? null)).toBeNull();
    await expect(page.locator('#preset')).toHaveValue('lite');
    await expect(page.getByTestId('force-wasm')).not.toBeChecked(); // chosen by the adapter (none), not by the setting
    await page.getByLabel('Max new tokens').fill('4');
    await page.getByTestId('file-input').setInputFiles(join(FIXTURES, 'h264_aac.mp4'));
    await page.getByTestId('load-model').click();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 300_000 });
    await expect(page.getByTestId('model-variant')).toHaveText(q8Reason('there is no WebGPU adapter'));
    await expect(page.getByTestId('model-name')).toContainText('Lite fixture from the Hub layout (q8, random weights)');
    expect(hub).toContain(`GET ${LLAVA}/onnx/decoder_model_merged_quantized.onnx`);
    expect(hub).toContain(`GET ${WHISPER}/onnx/decoder_model_merged_quantized.onnx`);
    expect(hub.filter((r) => r.includes('decoder_model_merged_q4'))).toEqual([]);
    await page.getByTestId('caption-button').click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
    await expect(page.getByTestId('caption-text')).not.toBeEmpty();
  } finally {
    await browser.close();
  }
});
