import { expect, test } from '@playwright/test';
import { cfrTimeline, planFrames } from '../src/core/media/plan';
import { rangeTimeline } from '../src/core/media/range';
import { parseCues } from '../src/core/timed/track';
import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../src/core/errors';
import { ERROR_TEXT } from '../src/app/lib/errors';
import { captionTexts, chooseFile, fixture, fixtureManifest, openApp, runCaption, shot, watchCaption } from './app/helpers';

/**
 * The app, end to end in headless Chromium with the tiny random-weight bundle
 * (public/bundles/tiny): input → frames → streaming caption → history → compare/export,
 * broken inputs and Cancel. WASM everywhere except one short WebGPU run.
 */

test('WASM: a video gives the planned frames, a streaming caption, and a history entry that survives a reload', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 24 });
  await shot(page, 'empty');
  await chooseFile(page, 'h264_aac.mp4');
  const facts = fixtureManifest().facts['h264_aac.mp4'];
  await expect(page.getByTestId('preview')).toHaveJSProperty('readyState', 4, { timeout: 20_000 }).catch(() => undefined);
  await expect(page.getByTestId('waveform')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('audio-window')).toHaveCount(Math.ceil(facts.duration / 30));

  await watchCaption(page);
  await runCaption(page, 'done');

  // The frames strip shows the planned timestamps (checkpoint rule, 1 fps).
  const plan = planFrames(cfrTimeline(facts.duration, facts.fps!), { fps: 1, maxFrames: 30, minFrames: 2 });
  const stamps = await page.getByTestId('frame').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-timestamp'))));
  expect(stamps).toHaveLength(plan.timestamps.length);
  stamps.forEach((t, i) => expect(t).toBeCloseTo(plan.timestamps[i], 2));
  await expect(page.getByTestId('frame').first().locator('img')).toHaveJSProperty('complete', true);

  // The caption streamed (many intermediate texts), on WASM, with live metrics.
  const caption = (await page.getByTestId('caption-text').textContent())!.trim();
  expect(caption.length).toBeGreaterThan(0);
  expect((await captionTexts(page)).length).toBeGreaterThan(3);
  await expect(page.getByTestId('caption-text')).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByTestId('model-backend')).toHaveText('WASM');
  await expect(page.getByTestId('model-name')).toContainText('random weights');
  expect(Number(await page.getByTestId('word-count').textContent())).toBeGreaterThan(0);
  await expect(page.getByTestId('tokens-per-second')).toHaveText(/tok\/s/);
  await expect(page.getByTestId('repetition-rate')).toHaveText(/%/);
  for (const stage of ['decode', 'vision', 'audio', 'prefill', 'generate']) await expect(page.getByTestId(`stage-${stage}`)).toHaveAttribute('data-state', 'done');
  await shot(page, 'done');

  // After a reload the run is in the history, with its caption and thumbnail; settings persisted.
  await page.reload();
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'done');
  await expect(item.getByTestId('history-video')).toHaveText('h264_aac.mp4');
  await expect(item.getByTestId('history-excerpt')).toContainText(caption.slice(0, 40));
  await expect(item.locator('.history-thumb img')).toHaveCount(1);
  await expect(page.getByLabel('Max new tokens')).toHaveValue('24');
  await expect(page.getByTestId('force-wasm')).toBeChecked();
});

test('auto on a machine whose only adapter is a software fallback runs on WASM and says why', async ({ page }) => {
  await openApp(page, { wasm: false, maxNewTokens: 4 });
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('graph-backends')).toContainText('decoder_model_merged: WASM');
  await expect(page.getByTestId('backend-reason')).toContainText('software fallback');
  // The tiny bundle fits the WASM heap at once: auto keeps every graph loaded, and says so.
  await expect(page.getByTestId('model-memory')).toHaveAttribute('data-low-memory', 'off');
  await expect(page.getByTestId('model-memory')).toContainText('All graphs loaded (auto): All graphs fit together (WASM');
});

test('low-memory mode on: shown in the Model panel, and a caption still completes on WASM', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await page.getByTestId('low-memory').selectOption('on');
  await chooseFile(page, 'short.mp4');
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('model-memory')).toHaveAttribute('data-low-memory', 'on');
  await expect(page.getByTestId('model-memory')).toHaveText('Low-memory mode (on): Low-memory mode is on in the settings: the encoders are released before the LLM is loaded.');
  await runCaption(page, 'done');
  expect((await page.getByTestId('caption-text').textContent())!.trim().length).toBeGreaterThan(0);
  for (const stage of ['vision', 'audio', 'prefill', 'generate']) await expect(page.getByTestId(`stage-${stage}`)).toHaveAttribute('data-state', 'done');
  // The LLM's sessions were created during the run (after the encoders'): its own row, done.
  const setup = page.getByTestId('stage-session');
  await expect(setup).toHaveAttribute('data-state', 'done');
  await expect(setup).toContainText('Model setup');
  await expect(setup).toContainText('100 %');
});

test('a cached model is deleted only after a confirmation: Keep (or Escape) keeps every file, Delete empties the Cache API of it', async ({ page }) => {
  await openApp(page, { wasm: true });
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  const tinyUrls = () => page.evaluate(async () => ((await caches.has('salmonn-bundles-v1')) ? (await (await caches.open('salmonn-bundles-v1')).keys()).map((r) => r.url).filter((u) => u.includes('/bundles/tiny/')) : []));
  const cachedBefore = await tinyUrls();
  expect(cachedBefore.length).toBeGreaterThan(5); // bundle.json, 5 graphs, their data, tokenizer files
  const item = page.getByTestId('cached-bundle').filter({ hasText: '/bundles/tiny/' });
  await expect(item).toHaveCount(1);
  const del = item.getByRole('button', { name: /^Delete cached model / });
  await del.click();
  await expect(item).toContainText(/Delete [\d.]+ (KB|MB)\? The next load downloads it again\./);
  await expect(item.getByRole('button', { name: 'Keep' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(item.getByTestId('confirm-delete-bundle')).toHaveCount(0);
  await del.click();
  await item.getByRole('button', { name: 'Keep' }).click();
  expect(await tinyUrls()).toEqual(cachedBefore);
  await del.click();
  await item.getByTestId('confirm-delete-bundle').click();
  await expect(page.getByTestId('cached-bundle').filter({ hasText: '/bundles/tiny/' })).toHaveCount(0);
  expect(await tinyUrls()).toEqual([]);
});

test('WebGPU (software adapter): a short caption runs with the backend shown as WebGPU', async ({ page }) => {
  test.setTimeout(420_000);
  await openApp(page, { wasm: false, softwareGpu: true, maxNewTokens: 8 });
  await chooseFile(page, 'short.mp4');
  await page.getByTestId('load-model').click();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 240_000 });
  await expect(page.getByTestId('model-backend')).toHaveText(/^WebGPU/);
  await expect(page.getByTestId('model-adapter')).not.toBeEmpty();
  await expect(page.getByTestId('graph-backends')).toContainText('decoder_model_merged: WebGPU');
  await runCaption(page, 'done');
  await expect(page.getByTestId('frame')).toHaveCount(2); // 0.4 s at 1 fps → the 2-frame minimum
  expect((await page.getByTestId('caption-text').textContent())!.trim().length).toBeGreaterThan(0);
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'done');
});

test('compare two runs with different settings; the .json export parses and matches the run', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 8 });
  await chooseFile(page, 'short.mp4');
  await runCaption(page, 'done');

  // Second run: more tokens, sampling, visual only.
  await page.getByLabel('Max new tokens').fill('20');
  await page.getByLabel('Sampling').check();
  await page.getByLabel('Seed', { exact: true }).fill('7');
  await page.getByLabel('Modality').selectOption('v');
  await runCaption(page, 'done');
  await expect(page.getByTestId('history-item')).toHaveCount(2);

  const items = page.getByTestId('history-item');
  await items.nth(1).getByTestId('history-select').check();
  await items.nth(0).getByTestId('history-select').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare');
  await expect(compare).toBeVisible();
  await expect(compare.getByTestId('compare-col')).toHaveCount(2);
  const keys = await compare.getByTestId('setting-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  expect(keys).toEqual(expect.arrayContaining(['maxNewTokens', 'decoding', 'modality']));
  expect(keys).not.toContain('prompt');
  await expect(compare.getByTestId('setting-row').and(page.locator('[data-key="maxNewTokens"]'))).toContainText('8');
  await expect(compare.locator('ins, del').first()).toBeVisible();
  await expect(compare.getByTestId('metrics-table')).toContainText('Repetition rate');
  await compare.scrollIntoViewIfNeeded();
  await shot(page, 'compare');

  // Export the newest run as JSON from its history entry.
  const newest = items.nth(0);
  const runId = await newest.getAttribute('data-run-id');
  await newest.getByRole('button', { name: /^Show run/ }).click();
  const shown = (await newest.getByTestId('caption-text').textContent())!;
  const [download] = await Promise.all([page.waitForEvent('download'), newest.getByTestId('export-json').click()]);
  expect(download.suggestedFilename()).toMatch(/^short-.*\.json$/);
  const data = JSON.parse(await readDownload(download));
  expect(data.format).toBe('salmonn-captioner-run');
  expect(data.run.id).toBe(runId);
  expect(data.run.status).toBe('done');
  expect(data.caption).toBe(shown);
  expect(data.report.caption).toBe(data.caption);
  expect(data.settings.maxNewTokens).toBe(20);
  expect(data.settings.modality).toBe('v');
  expect(data.settings.decoding).toEqual({ kind: 'sample', temperature: 0.7, topP: 0.9, seed: 7 });
  expect(data.report.options).toEqual(data.settings);
  expect(data.model.name).toBe('tiny-random-seed0');
  expect(data.model.randomWeights).toBe(true);
  expect(data.video).toMatchObject({ name: 'short.mp4', bytes: 50116 });
  expect(data.report.video.name).toBe('short.mp4');
  expect(data.frames).toHaveLength(data.report.frames.length);
  expect(data.metrics.words).toBeGreaterThanOrEqual(0);

  // Delete one run, then all; the history stays empty after a reload.
  await items.nth(1).getByTestId('history-delete').click();
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('compare')).toHaveCount(0);
  await page.getByTestId('clear-history').click();
  await page.getByTestId('confirm-clear').click();
  await expect(page.getByTestId('history-item')).toHaveCount(0);
  await page.reload();
  await expect(page.getByText('No runs yet.')).toBeVisible();
});

async function readDownload(download: import('@playwright/test').Download): Promise<string> {
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('broken files show their message; a failed run keeps earlier results; Cancel keeps the partial text', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, { wasm: true, maxNewTokens: 4000 });
  const broken = fixtureManifest().broken;
  const cases = ['empty.mp4', 'text.mp4', 'random.mp4', 'truncated.mp4', 'image.png', 'hevc.mp4'];
  for (const [i, name] of cases.entries()) {
    if (i === 1) {
      // One of them arrives by drag and drop instead of the file picker.
      const bytes = readFileSync(fixture(name)).toString('base64');
      await page.evaluate(
        ([b64, fileName]) => {
          const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bin], fileName, { type: 'video/mp4' }));
          const zone = document.querySelector('[data-testid="drop-zone"]')!;
          zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        [bytes, name] as const,
      );
      await expect(page.getByTestId('file-facts')).toContainText(name);
    } else await chooseFile(page, name);
    await runCaption(page, 'error');
    const codes = broken[name].browser;
    const error = page.getByTestId('run-panel').getByTestId('error');
    await expect(error).toHaveAttribute('data-code', new RegExp(`^(${codes.join('|')})$`));
    const code = (await error.getAttribute('data-code')) as ErrorCode;
    await expect(error.getByTestId('error-title')).toHaveText(ERROR_TEXT[code].title);
    await expect(error.getByTestId('error-advice')).toHaveText(ERROR_TEXT[code].advice);
    if (name === 'text.mp4') await shot(page, 'error');
  }
  await expect(page.getByTestId('history-item')).toHaveCount(cases.length);
  await expect(page.getByTestId('history-item').and(page.locator('[data-status="error"]'))).toHaveCount(cases.length);

  // Cancel during generation (max new tokens 4000: still running) keeps the streamed text.
  await chooseFile(page, 'h264_aac.mp4');
  await page.getByTestId('caption-button').click();
  await expect(page.getByTestId('stage-generate')).toHaveAttribute('data-state', 'active', { timeout: 120_000 });
  await expect.poll(async () => ((await page.getByTestId('caption-text').textContent()) ?? '').length, { timeout: 60_000 }).toBeGreaterThan(12);
  await shot(page, 'running');
  const before = (await page.getByTestId('caption-text').textContent())!;
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  const kept = (await page.getByTestId('caption-text').textContent())!;
  expect(kept.startsWith(before.replace(/\s+$/, '').slice(0, 12))).toBe(true);
  expect(kept.length).toBeGreaterThanOrEqual(before.trimEnd().length);
  await expect(page.getByTestId('cancelled-note')).toBeVisible();
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'cancelled');
  await expect(item).toContainText('cancelled (partial)');
  await expect(page.getByTestId('history-item')).toHaveCount(cases.length + 1);

  // Cancel in an early stage (before any text): the run ends cancelled, nothing is lost.
  await page.getByTestId('caption-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'running');
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  await expect(page.getByTestId('history-item')).toHaveCount(cases.length + 2);
});

test('narrow (360 px) and dark mode render without horizontal overflow', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await openApp(page, { wasm: true, maxNewTokens: 8 });
  await chooseFile(page, 'short.mp4');
  await runCaption(page, 'done');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe('rgb(18, 20, 24)');
  await shot(page, 'narrow-dark');
  // Keyboard: the caption button is reachable with Tab and labelled controls exist.
  await expect(page.getByLabel('Modality')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Caption', exact: true })).toBeEnabled();
});

test('a model from a local folder; a full storage is reported, not silent', async ({ page }) => {
  // IndexedDB refuses every write, as it does when the site's quota is used up.
  await page.addInitScript(() => {
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
  });
  await openApp(page, { wasm: true, maxNewTokens: 4 });
  await page.getByTestId('folder-input').setInputFiles('public/bundles/tiny');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('model-status')).toContainText('local folder “tiny”');
  await chooseFile(page, 'empty.mp4');
  await runCaption(page, 'error');
  await expect(page.getByTestId('storage-error')).toContainText('storage for this site is full');
  // The run is still listed for this session.
  await expect(page.getByTestId('history-item')).toHaveCount(1);
});

test('the keyboard sets a range: a local caption of it (frames and audio window inside it); a follow-up question lands in the history and the export', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await chooseFile(page, 'h264_aac.mp4');
  const facts = fixtureManifest().facts['h264_aac.mp4'];

  // A mouse drag over the timeline selects a range (here 25 %–50 % of 12 s); Clear undoes it.
  await page.locator('.timeline').scrollIntoViewIfNeeded();
  const box = (await page.locator('.timeline').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.6, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('range-summary')).toHaveText('Caption makes a local caption of 0:03.0–0:06.0 (3.0 s).');
  await expect(page.getByTestId('range-selection')).toBeVisible();
  await page.getByTestId('range-clear').click();
  await expect(page.getByTestId('range-selection')).toHaveCount(0);
  await expect(page.getByTestId('range-end')).toHaveAttribute('aria-valuetext', '0:12.0 (whole file)');

  // Two-thumb slider: arrows move the focused handle by 1 s.
  const start = page.getByTestId('range-start');
  const end = page.getByTestId('range-end');
  await start.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Tab');
  await expect(end).toBeFocused();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
  await expect(start).toHaveAttribute('aria-valuenow', '3');
  await expect(end).toHaveAttribute('aria-valuenow', '7');
  await expect(end).toHaveAttribute('aria-valuetext', '0:07.0');
  await expect(page.getByTestId('range-start-input')).toHaveValue('0:03.0');
  await expect(page.getByTestId('range-end-input')).toHaveValue('0:07.0');
  await expect(page.getByTestId('range-summary')).toHaveText('Caption makes a local caption of 0:03.0–0:07.0 (4.0 s).');
  // A typed end before the start is refused with its reason; the range stays.
  await page.getByTestId('range-end-input').fill('0:02');
  await page.getByTestId('range-end-input').press('Enter');
  await expect(page.getByTestId('range-error')).toHaveText('The end must be after the start (0:03.0).');
  await expect(end).toHaveAttribute('aria-valuenow', '7');
  // The audio windows shown are the range plan's: one window from the range start.
  await expect(page.getByTestId('audio-window')).toHaveCount(1);
  await expect(page.getByTestId('audio-window')).toHaveAttribute('title', 'audio window: 0:03.0–0:07.0');

  await expect(page.getByTestId('caption-button')).toHaveText('Load model and caption range');
  const chat = page.getByTestId('chat-panel');
  await expect(chat.getByTestId('chat-reason')).toHaveText('Caption this video first: the questions continue the conversation of its caption.');
  await page.getByTestId('caption-button').click();
  await expect(chat.getByTestId('chat-reason')).toHaveText('A run is in progress: ask when it has finished.');
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('run-range')).toContainText('Local caption of 0:03.0–0:07.0');
  await shot(page, 'local-caption');
  // Frames: the 1 fps rule within [3, 7) of the file's own frames, and none outside it.
  const { timeline } = rangeTimeline(cfrTimeline(facts.duration, facts.fps!), { start: 3, end: 7 });
  const plan = planFrames(timeline, { fps: 1, maxFrames: 30, minFrames: 2 });
  const stamps = await page.getByTestId('frame').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-timestamp'))));
  expect(plan.timestamps).toEqual([3, 4, 5, 6]);
  expect(stamps).toEqual(plan.timestamps);

  // A follow-up question (Enter sends): the answer streams in, the conversation's prefix is reused.
  await expect(chat.getByTestId('chat-reason')).toHaveCount(0);
  await chat.getByTestId('chat-input').fill('What can be heard?');
  await chat.getByTestId('chat-input').press('Enter');
  await expect(chat.getByTestId('chat-turn')).toHaveCount(1, { timeout: 60_000 });
  await expect(chat.getByTestId('chat-turn')).toHaveAttribute('data-status', 'done');
  const answer = (await chat.getByTestId('chat-answer').textContent())!;
  expect(answer.trim().length).toBeGreaterThan(0);
  await expect(chat.getByTestId('chat-turn-facts')).toContainText('reused from the conversation');
  await shot(page, 'follow-up');
  await chat.getByTestId('chat-reset').click();
  await expect(chat.getByTestId('chat-reason')).toContainText('The conversation was reset');
  await expect(chat.getByTestId('chat-send')).toHaveAttribute('aria-disabled', 'true');

  // The history entry holds the kind, the range and the turn; so does its .json export.
  const item = page.getByTestId('history-item').first();
  await expect(item.getByTestId('history-kind')).toHaveText('local caption 0:03.0–0:07.0');
  await expect(item.getByTestId('history-turns')).toHaveText(' · 1 follow-up question');
  await page.reload();
  const kept = page.getByTestId('history-item').first();
  await expect(kept.getByTestId('history-turns')).toHaveText(' · 1 follow-up question');
  await kept.getByRole('button', { name: /^Show run/ }).click();
  await expect(kept.getByTestId('turn')).toContainText('Q: What can be heard?');
  const [download] = await Promise.all([page.waitForEvent('download'), kept.getByTestId('export-json').click()]);
  const data = JSON.parse(await readDownload(download));
  expect(data.kind).toBe('local');
  expect(data.range).toEqual({ start: 3, end: 7 });
  expect(data.report.range).toEqual({ start: 3, end: 7 });
  expect(data.report.frames.map((f: { timestamp: number }) => f.timestamp)).toEqual([3, 4, 5, 6]);
  expect(data.turns).toHaveLength(1);
  expect(data.turns[0]).toMatchObject({ question: 'What can be heard?', answer, status: 'done' });
  // The first turn reuses the caption's prompt and answer (+ <|im_end|> when it hit the token limit).
  expect(data.turns[0].reusedTokens).toBe(data.report.promptTokens + data.report.generatedTokenIds.length + (data.report.stopReason === 'stop-token' ? 0 : 1));
  expect(data.turns[0].prefillTokens).toBeGreaterThan(0);
  const [md] = await Promise.all([page.waitForEvent('download'), kept.getByTestId('export-md').click()]);
  const text = await readDownload(md);
  expect(text).toContain('# Local caption of h264_aac.mp4');
  expect(text).toContain('Time range: **0:03.0–0:07.0**');
  expect(text).toContain(`**Q1:** What can be heard?\n\n**A1:** ${answer.trim()}`);
});

test('a caption track plays as subtitles over the video; its .vtt parses; a rerun takes the cues from the cache; Cancel keeps the cues done', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 4 });
  await chooseFile(page, 'vp9_opus.webm');
  const duration = fixtureManifest().facts['vp9_opus.webm'].duration;
  await page.getByTestId('track-seconds').fill('5');
  await page.getByTestId('track-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const panel = page.getByTestId('run-panel');
  await expect(panel.getByTestId('cue')).toHaveCount(3);
  await expect(panel.getByTestId('track-progress')).toHaveText('3 of 3 segments captioned');
  const listed = await panel.getByTestId('cue').locator('.cue-text').allTextContents();

  // The preview's text track: the active cue follows currentTime, and the page shows it.
  const activeAt = (t: number) =>
    page.evaluate(async (time) => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="preview"]')!;
      const track = v.textTracks[0];
      if (v.currentTime !== time) {
        const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
        v.currentTime = time;
        await seeked;
      }
      await new Promise((r) => setTimeout(r, 50));
      return { mode: track.mode, kind: track.kind, cues: track.cues!.length, active: [...track.activeCues!].map((c) => (c as VTTCue).text) };
    }, t);
  await expect(page.getByTestId('preview')).toHaveJSProperty('readyState', 4, { timeout: 20_000 }).catch(() => undefined);
  await shot(page, 'caption-track');
  // At the start (paused, never played) the first cue is already showing.
  await expect(page.getByTestId('active-cue-text')).toHaveText(listed[0] === '(no text)' ? '…' : listed[0]);
  const at1 = await activeAt(1);
  expect(at1).toMatchObject({ mode: 'showing', kind: 'subtitles', cues: 3 });
  expect(at1.active).toEqual([listed[0] === '(no text)' ? '…' : listed[0]]);
  await expect(page.getByTestId('active-cue-text')).toHaveText(at1.active[0]);
  const at7 = await activeAt(7);
  expect(at7.active).toEqual([listed[1] === '(no text)' ? '…' : listed[1]]);
  await expect(page.getByTestId('active-cue-text')).toHaveText(at7.active[0]);
  expect((await activeAt(11)).active).toEqual([listed[2] === '(no text)' ? '…' : listed[2]]);

  // The .vtt download: cues in order, no gaps or overlaps, covering the whole video.
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-vtt').click()]);
  expect(download.suggestedFilename()).toMatch(/^vp9_opus-.*\.vtt$/);
  const cues = parseCues(await readDownload(download));
  expect(cues.map((c) => [c.start, c.end]).slice(0, 2)).toEqual([
    [0, 5],
    [5, 10],
  ]);
  expect(cues[2].start).toBe(10);
  // The last cue ends at the file's duration as the worker read it (ffprobe's to the ms).
  expect(cues[2].end).toBeCloseTo(duration, 2);
  expect(cues.map((c) => c.text)).toEqual(listed.map((t) => (t === '(no text)' ? '…' : t)));
  const [srt] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-srt').click()]);
  expect(parseCues(await readDownload(srt))).toEqual(cues);

  // Same settings again: every segment comes from the track's cache (no model run).
  await page.getByTestId('track-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done');
  await expect(panel.getByTestId('track-progress')).toHaveText('3 of 3 segments captioned · 3 from the track cache');
  await expect(panel.getByTestId('stage-generate')).toHaveCount(0);

  // 2 s segments (6 of them): Cancel after the first cue keeps the cues done so far.
  await page.getByTestId('track-seconds').fill('2');
  // Cancel is clicked in the page the moment this run's first cue is rendered (a poll from the
  // test could miss it on a loaded machine and see the whole track done).
  await page.evaluate(() => {
    const panel = document.querySelector('[data-testid="run-panel"]')!;
    const observer = new MutationObserver(() => {
      const progress = panel.querySelector('[data-testid="track-progress"]');
      if (progress?.getAttribute('data-total') !== '6' || Number(progress.getAttribute('data-done')) < 1) return;
      observer.disconnect();
      (document.querySelector('[data-testid="cancel-button"]') as HTMLButtonElement).click();
    });
    observer.observe(panel, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  await page.getByTestId('track-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  const done = await panel.getByTestId('cue').count();
  expect(done).toBeGreaterThanOrEqual(1);
  expect(done).toBeLessThan(6);
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'cancelled');
  await expect(item.getByTestId('history-kind')).toHaveText(`caption track (${done} of 6 segments, 2 s each)`);
  // A track leaves no conversation to continue.
  await expect(page.getByTestId('chat-reason')).toContainText('A caption track has no conversation');

  // Compare the full and the cancelled track: each shows its cues, the kinds differ.
  const items = page.getByTestId('history-item');
  await expect(items).toHaveCount(3);
  await items.nth(0).getByTestId('history-select').check();
  await items.nth(1).getByTestId('history-select').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare');
  await expect(compare.getByTestId('compare-col').nth(0).getByTestId('cue')).toHaveCount(done);
  await expect(compare.getByTestId('compare-col').nth(1).getByTestId('cue')).toHaveCount(3);
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="kind"]'))).toContainText('caption track (3 of 3 segments, 5 s each)');
});

test('a history entry written before multi-step runs still loads, shows and exports', async ({ page }) => {
  await openApp(page, { wasm: true });
  // A version-1 record (no kind, range, track or turns), as the app wrote it before.
  await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('salmonn-captioner', 1);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const options = { range: null, modality: 'av', interleave: 'spread', fps: 1, maxFrames: 30, maxTime: 30, frameRule: 'checkpoint', sampling: 'paper', channel: 0, promptVariant: 'official', timeTokens: true, maxNewTokens: 16, prompt: 'Describe.', decoding: { kind: 'greedy' }, repetitionPenalty: 1, prefillChunk: 256, textPieces: [] };
    const record = { id: 'v1-run', createdAt: Date.UTC(2026, 0, 2), status: 'done', caption: 'An old caption.', options, model: { name: 'tiny', randomWeights: true, source: 'tiny', backends: {}, adapter: null }, video: { name: 'old.mp4', bytes: 10, type: 'video/mp4', duration: 12 }, thumbnails: [], report: null, error: null, tokensPerSecond: 1, wallMs: 10 };
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('runs', 'readwrite');
      tx.objectStore('runs').put(record);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  });
  await page.reload();
  const item = page.getByTestId('history-item').first();
  await expect(item.getByTestId('history-video')).toHaveText('old.mp4');
  await expect(item.getByTestId('history-kind')).toHaveText('caption');
  await item.getByRole('button', { name: /^Show run/ }).click();
  await expect(item.getByTestId('caption-text')).toHaveText('An old caption.');
  const [download] = await Promise.all([page.waitForEvent('download'), item.getByTestId('export-json').click()]);
  const data = JSON.parse(await readDownload(download));
  expect(data).toMatchObject({ caption: 'An old caption.', kind: 'global', range: null, track: null, turns: [] });
});

/**
 * scenes.mp4 by e2e/fixtures/make-fixtures.sh: red 0–3 s, testsrc2 3–7 s, blue 7–9.5 s,
 * green 9.5–10.5 s, SMPTE bars 10.5–13 s (30 fps, compared at 2 fps). The cuts are where the
 * colours change; green (1 s) is under the 2 s minimum segment, so its start is no boundary.
 */
const SCENE_CUTS = [3, 7, 9.5, 10.5];
const SCENE_STARTS = [0, 3, 7, 9.5];
const FRAME = 1 / 30;

test('a caption track at scene changes: the cuts on the timeline, cues starting at them (to the frame), .vtt, history; a too-short video is refused', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 2 });
  await chooseFile(page, 'scenes.mp4');
  const segments = page.getByLabel('Segments');
  await segments.selectOption('scenes');
  await expect(page.getByTestId('track-seconds')).toBeDisabled();
  // By keyboard: the focused Caption track button, Enter.
  await page.getByRole('button', { name: 'Caption track' }).press('Enter');
  const panel = page.getByTestId('run-panel');
  // The cuts are shown (text and timeline markers) before the segments are captioned.
  await expect(panel.getByTestId('scene-cuts')).toHaveText('Scene changes at 0:03.0, 0:07.0, 0:09.5, 0:10.5', { timeout: 120_000 });
  const marked = await page.getByTestId('timeline-cut').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-time'))));
  expect(marked).toHaveLength(SCENE_CUTS.length);
  marked.forEach((t, i) => expect(Math.abs(t - SCENE_CUTS[i])).toBeLessThan(FRAME / 2));
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(panel.getByTestId('track-progress')).toHaveText('4 of 4 segments captioned');
  await shot(page, 'scene-track');
  const starts = await panel.getByTestId('cue').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-start'))));
  expect(starts).toHaveLength(SCENE_STARTS.length);
  starts.forEach((t, i) => expect(Math.abs(t - SCENE_STARTS[i])).toBeLessThan(FRAME / 2));
  // The subtitles over the video are the scene cues.
  expect(await page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="preview"]')!.textTracks[0].cues!.length)).toBe(4);

  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-vtt').click()]);
  const cues = parseCues(await readDownload(download));
  cues.forEach((c, i) => expect(Math.abs(c.start - SCENE_STARTS[i])).toBeLessThan(FRAME / 2));
  expect(cues[3].end).toBeCloseTo(13, 1);
  const item = page.getByTestId('history-item').first();
  await expect(item.getByTestId('history-kind')).toHaveText('caption track (4 of 4 scene segments)');

  // A rerun: the cuts and every cue from the caches (no decode, no model run).
  await page.getByRole('button', { name: 'Caption track' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done');
  await expect(panel.getByTestId('track-progress')).toHaveText('4 of 4 segments captioned · 4 from the track cache');

  // testsrc2 for 10 s (video_only.mp4): moving, no cut; one segment, and the page says why.
  await chooseFile(page, 'video_only.mp4');
  await page.getByRole('button', { name: 'Caption track' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(panel.getByTestId('scene-cuts')).toHaveText('No scene change found');
  await expect(panel.getByTestId('scene-note')).toHaveText('No scene change was found (no scene score above 0.3): the track is one segment of the whole video.');
  await expect(panel.getByTestId('cue')).toHaveCount(1);
  await expect(page.getByTestId('timeline-cut')).toHaveCount(0);

  // 0.4 s: too short for two 2 s segments; a clear message, the earlier runs kept.
  await chooseFile(page, 'short.mp4');
  await page.getByRole('button', { name: 'Caption track' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'error');
  await expect(panel.getByTestId('error')).toHaveAttribute('data-code', 'media/too-short');
  await expect(panel.getByTestId('error-message')).toContainText('The video is 0.4 s long: scene segments need at least 4 s');
  await expect(page.getByTestId('history-item')).toHaveCount(4);
});

test('a long caption: clip captions stream, then the merge; kept in the history with its clips, exported; Cancel keeps the clips done', async ({ page }) => {
  await openApp(page, { wasm: true, maxNewTokens: 2 });
  await chooseFile(page, 'scenes.mp4');
  // The defaults are the CLI's (core/timed/long-engine.ts): 10 s clips every 5 s; 300 words.
  await expect(page.getByLabel('Clip length (s)')).toHaveValue('10');
  await expect(page.getByLabel('Clip stride (s)')).toHaveValue('5');
  await expect(page.getByLabel('Long caption target (words)')).toHaveValue('300');
  await page.getByLabel('Long caption target (words)').fill('40');
  await page.getByRole('button', { name: 'Long caption' }).press('Enter');
  const panel = page.getByTestId('run-panel');
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  // 13 s in 10 s clips every 5 s, by hand: 0–10, 5–13.
  const clips = panel.getByTestId('clip');
  await expect(clips).toHaveCount(2);
  expect(await clips.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-start')), Number(e.getAttribute('data-end'))]))).toEqual([
    [0, 10],
    [5, expect.closeTo(13, 1)],
  ]);
  await expect(panel.getByTestId('long-progress')).toHaveText('2 of 2 clips captioned');
  await expect(panel.getByTestId('long-scores')).toContainText('(target 40)');
  await expect(panel.getByTestId('long-scores')).toContainText('merge levels [1]');
  await shot(page, 'long-caption');
  const summary = (await panel.getByTestId('caption-text').textContent())!.trim();
  const clipTexts = await clips.locator('.cue-text').allTextContents();

  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'done');
  await expect(item.getByTestId('history-kind')).toHaveText('long caption (2 of 2 clips, 40 words target)');
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-json').click()]);
  const data = JSON.parse(await readDownload(download)) as { kind: string; caption: string; long: { targetWords: number; clipSeconds: number; strideSeconds: number; clips: { start: number; caption: string }[]; mergeLevels: number[] } };
  expect(data.kind).toBe('long');
  expect(data.caption.trim()).toBe(summary === '(no text)' ? '' : summary);
  expect(data.long).toMatchObject({ targetWords: 40, clipSeconds: 10, strideSeconds: 5, mergeLevels: [1] });
  expect(data.long.clips.map((c) => c.caption.trim() || '(no text)')).toEqual(clipTexts);
  await expect(page.getByTestId('chat-reason')).toContainText('A long caption has no conversation');

  // 4 s clips every 4 s (0–4, 4–8, 8–12, 12–13): Cancel once the first clip is captioned.
  await page.getByLabel('Clip stride (s)').fill('4');
  await page.getByLabel('Clip length (s)').fill('4');
  await page.evaluate(() => {
    const panel = document.querySelector('[data-testid="run-panel"]')!;
    const observer = new MutationObserver(() => {
      const progress = panel.querySelector('[data-testid="long-progress"]');
      if (progress?.getAttribute('data-total') !== '4' || Number(progress.getAttribute('data-done')) < 1) return;
      observer.disconnect();
      (document.querySelector('[data-testid="cancel-button"]') as HTMLButtonElement).click();
    });
    observer.observe(panel, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Long caption' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'cancelled', { timeout: 60_000 });
  const done = await panel.getByTestId('clip').count();
  expect(done).toBeGreaterThanOrEqual(1);
  expect(done).toBeLessThan(4);
  await expect(page.getByTestId('history-item').first().getByTestId('history-kind')).toHaveText(`long caption (${done} of 4 clips, 40 words target)`);

  // Compare the two long captions: each column lists its clips.
  const items = page.getByTestId('history-item');
  await items.nth(0).getByTestId('history-select').check();
  await items.nth(1).getByTestId('history-select').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare');
  await expect(compare.getByTestId('compare-col').nth(0).getByTestId('clip')).toHaveCount(done);
  await expect(compare.getByTestId('compare-col').nth(1).getByTestId('clip')).toHaveCount(2);
});
