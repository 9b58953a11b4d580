/**
 * Issue 15, "a newcomer's first ten minutes": the UI findings, each checked in real
 * Chromium with real files, and screenshots of the main states at 1280 and 360 px
 * (.test-output/screenshots/).
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chooseFile, openApp, runCaption, shot } from './app/helpers';

/** Records every long task (PerformanceObserver 'longtask') from page load on. */
async function observeLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; duration: number; stage: string }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      // Where the run was when the task ended, to say which part of the page stalled.
      const stage = document.querySelector('.stage-active')?.getAttribute('data-testid') ?? document.querySelector('[data-testid="run-status"]')?.getAttribute('data-status') ?? 'idle';
      for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration, stage });
    }).observe({ type: 'longtask', buffered: true });
  });
}

const now = (page: Page) => page.evaluate(() => performance.now());
const longTasks = (page: Page, from: number, to: number) =>
  page.evaluate(([a, b]) => (window as unknown as { __longTasks: { start: number; duration: number; stage: string }[] }).__longTasks.filter((t) => t.start + t.duration >= a && t.start <= b), [from, to] as const);

/** Main-thread tasks of the page's renderer in a Chrome trace: wall and CPU (thread) ms. */
function mainThreadTasks(tracePath: string): { wall: number; cpu: number }[] {
  const events = (JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return events
    .filter((e) => e.ph === 'X' && (e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask') && main.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? 0) / 1000 }));
}
interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * From picking a file to the end of the run, no main-thread task may block for more than
 * 200 ms, on the dev server (the README's `npm run dev`) and on the production build
 * (`npm start`). The long-task observer measures wall time, which on a machine with more
 * runnable threads than cores includes the time the OS gave the CPU to others (the model
 * itself runs on every core); the trace's thread time of each task is what the page spent.
 * So: thread time ≤ 200 ms always; wall time ≤ 200 ms too when the machine is not
 * overloaded (load average below the core count).
 */
for (const [where, url] of [
  ['dev server', '/'],
  ['production build', `${process.env.E2E_PREVIEW_URL}/`],
] as const) {
  test(`${where}: no main-thread task over 200 ms from picking a file to the end of the run`, async ({ page, browser }) => {
    test.setTimeout(300_000);
    await observeLongTasks(page);
    await openApp(page, { wasm: true, maxNewTokens: 48, url });
    // Load first: model loading is not part of a run.
    await page.getByTestId('load-model').click();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
    const tracePath = test.info().outputPath('trace.json');
    const overloaded = () => loadavg()[0] >= cpus().length;
    const busyBefore = overloaded();
    await browser.startTracing(page, { path: tracePath, categories: ['toplevel'] });
    const from = await now(page);
    await chooseFile(page, 'long40.mp4'); // 40 s: waveform of two windows, 30 frames
    await runCaption(page, 'done');
    await expect(page.getByTestId('waveform')).toHaveAttribute('data-status', 'ready');
    const to = await now(page);
    await browser.stopTracing();
    const tasks = await longTasks(page, from, to);
    const worstWall = Math.max(0, ...tasks.map((t) => t.duration));
    const traced = mainThreadTasks(tracePath);
    expect(traced.length).toBeGreaterThan(100); // the trace did see the page's main thread
    const worstCpu = Math.max(0, ...traced.map((t) => t.cpu));
    const summary = `longest task: ${Math.round(worstWall)} ms wall (long-task observer, ${tasks.length} over 50 ms), ${Math.round(worstCpu)} ms thread time (trace); load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
    test.info().annotations.push({ type: 'main thread', description: summary });
    expect(worstCpu, `${summary}\nlong tasks: ${JSON.stringify(tasks.map((t) => `${Math.round(t.duration)} ms (${t.stage})`))}`).toBeLessThanOrEqual(200);
    if (!busyBefore && !overloaded()) expect(worstWall, `${summary}\nlong tasks: ${JSON.stringify(tasks.map((t) => `${Math.round(t.duration)} ms (${t.stage})`))}`).toBeLessThanOrEqual(200);
  });
}

test('a fresh clone without the tiny bundle: the error names the command that builds it', async ({ page }) => {
  await page.route('**/bundles/tiny/bundle.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await openApp(page, { wasm: true });
  await expect(page.getByTestId('preset-note')).toContainText('npm run models:tiny');
  await page.getByTestId('load-model').click();
  const error = page.getByTestId('model-status').getByTestId('error');
  await expect(error).toHaveAttribute('data-code', 'bundle/not-found');
  await expect(error.getByTestId('error-fix')).toContainText('run npm run models:tiny in the project folder');
  await shot(page, '1280-missing-bundle');
});

test('keyboard: focus stays on Caption, skip links move focus, Escape closes compare, no hidden tab stops; history rows show settings; delete can be undone', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await shot(page, '1280-empty');

  // Skip link: the first tab stop; Enter moves the focus (not only the scroll) to the caption.
  // (A fresh load puts the keyboard's starting point at the top; the settings persist.)
  await page.reload();
  await expect(page.getByLabel('Max new tokens')).toHaveValue('6');
  await page.keyboard.press('Tab');
  await expect(page.locator('.skip-link')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#run-h')).toBeFocused();

  await chooseFile(page, 'short.mp4');
  // Caption from the keyboard: the focus stays on the button during and after the run.
  await page.getByTestId('caption-button').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', /running|loading-model/);
  await expect(page.getByTestId('caption-button')).toBeFocused();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('caption-button')).toBeFocused();
  await shot(page, '1280-done');

  // A second run of the same file with other settings: the history rows tell them apart.
  await page.getByLabel('Modality').selectOption('v');
  await page.getByLabel('Max new tokens').fill('5');
  await runCaption(page, 'done');
  const items = page.getByTestId('history-item');
  await expect(items).toHaveCount(2);
  await expect(items.nth(0).getByTestId('history-settings')).toContainText('visual only · 1 fps, ≤ 30 frames · greedy · 5 tokens');
  await expect(items.nth(1).getByTestId('history-settings')).toContainText('audio + visual · 1 fps, ≤ 30 frames · spread · greedy · 6 tokens');

  // Every tab stop of the page: no file input among them, and one skip link past the history.
  const stops: string[] = [];
  await page.getByRole('heading', { level: 1 }).click();
  for (let i = 0; i < 150; i++) {
    await page.keyboard.press('Tab');
    const d = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? `${el.tagName.toLowerCase()}${el.getAttribute('type') ? `[${el.getAttribute('type')}]` : ''}${el.dataset.testid ? `#${el.dataset.testid}` : ''}` : 'none';
    });
    if (d === 'body') break;
    stops.push(d);
  }
  expect(stops.filter((s) => s.startsWith('input[file]'))).toEqual([]);
  expect(stops).toContain('button[button]#load-folder');
  expect(stops).toContain('a#skip-history');
  expect(stops).toContain('button[button]#caption-button');
  // The track's segmentation and the long caption's controls (issue 14) are tab stops too.
  for (const stop of ['select#track-segmentation', 'button[button]#track-button', 'button[button]#long-button', 'input[number]#long-words', 'input[number]#long-clip', 'input[number]#long-stride']) expect(stops).toContain(stop);
  await page.getByTestId('skip-history').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#history-end')).toBeFocused();

  // Compare from the keyboard; Escape closes it and gives the focus back.
  await items.nth(0).getByTestId('history-select').check();
  await items.nth(1).getByTestId('history-select').check();
  await page.getByTestId('compare-button').focus();
  await page.keyboard.press('Enter');
  const compare = page.getByTestId('compare');
  await expect(compare).toBeVisible();
  await expect(page.locator('#compare-h')).toBeFocused();
  // Every setting is shown, the differing ones marked; the model and its random weights too.
  await expect(compare.getByTestId('setting-same').and(page.locator('[data-key="prompt"]'))).toBeVisible();
  await expect(compare.getByTestId('setting-row').and(page.locator('[data-key="modality"]'))).toContainText('≠ Modality');
  await expect(compare.getByTestId('settings-differ')).toContainText('Modality');
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="model"]'))).toContainText('tiny-random-seed0 (random weights');
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="frames"]'))).toContainText('2');
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="promptTokens"]'))).toHaveText(/Prompt tokens\s*\d+\s*\d+/);
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="frameTimes"]'))).toContainText('0:00.0');
  await compare.scrollIntoViewIfNeeded();
  await shot(page, '1280-compare');
  await page.keyboard.press('Escape');
  await expect(compare).toHaveCount(0);
  await expect(page.getByTestId('compare-button')).toBeFocused();

  // Delete one run: it can be brought back, with the focus on Undo meanwhile.
  const runId = await items.nth(1).getAttribute('data-run-id');
  await items.nth(1).getByTestId('history-delete').click();
  await expect(items).toHaveCount(1);
  await expect(page.getByTestId('undo-delete-button')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(items).toHaveCount(2);
  await expect(items.nth(1)).toHaveAttribute('data-run-id', runId!);
  // Restored in IndexedDB too: it survives a reload.
  await page.reload();
  await expect(page.getByTestId('history-item')).toHaveCount(2);
  await shot(page, '1280-history');
});

test('a new file clears the old run; a failed run exports only its details; failed runs are compared without a word diff', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await chooseFile(page, 'short.mp4');
  await runCaption(page, 'done');
  await expect(page.getByTestId('frame')).toHaveCount(2);
  const caption = (await page.getByTestId('run-panel').getByTestId('caption-text').textContent())!;

  await chooseFile(page, 'text.mp4');
  // The previous file's frames, caption and stages are gone from the page.
  await expect(page.getByTestId('frame')).toHaveCount(0);
  await expect(page.getByTestId('run-status')).toHaveCount(0);
  await expect(page.getByTestId('run-panel').getByTestId('caption-text')).toHaveText('The caption streams here.');
  await runCaption(page, 'error');
  await expect(page.getByTestId('run-panel').getByTestId('error')).toBeVisible();
  await shot(page, '1280-error');

  await chooseFile(page, 'h264_aac.mp4');
  await expect(page.getByTestId('run-panel').getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('frame')).toHaveCount(0);
  // The timeline is the new file's: one 12 s audio window.
  await expect(page.getByTestId('audio-window')).toHaveCount(1);
  await expect(page.getByTestId('audio-window')).toHaveAttribute('title', 'audio window: 0:00.0–0:12.0');

  // The failed run offers no text exports, only its details.
  const failed = page.getByTestId('history-item').and(page.locator('[data-status="error"]'));
  await failed.getByRole('button', { name: /^Show run/ }).click();
  await expect(failed.getByTestId('export-txt')).toHaveCount(0);
  await expect(failed.getByTestId('export-md')).toHaveCount(0);
  await expect(failed.getByTestId('no-text-exports')).toBeVisible();
  await expect(failed.getByTestId('export-json')).toHaveText('Export details (.json)');

  // Compare the done run (A) with the failed one (B): A's text is not struck out.
  const items = page.getByTestId('history-item');
  await items.nth(1).getByTestId('history-select').check();
  await items.nth(0).getByTestId('history-select').check();
  await page.getByTestId('compare-button').click();
  const compare = page.getByTestId('compare');
  await expect(compare.getByTestId('compare-col')).toHaveCount(2);
  await expect(compare.locator('del, ins')).toHaveCount(0);
  await expect(compare.getByTestId('compare-col').nth(0).getByTestId('compare-text')).toHaveText(caption);
  await expect(compare.getByTestId('compare-col').nth(1)).toHaveAttribute('data-status', 'error');
  await expect(compare.getByTestId('compare-col').nth(1).getByTestId('compare-error')).toBeVisible();
  await expect(compare.getByTestId('fact-row').and(page.locator('[data-key="status"]'))).toContainText('failed');
  await expect(compare.getByTestId('diff-legend')).toContainText('fewer than two of these runs finished');
});

test('an audio-only file in audio+visual mode: the page says the caption uses the audio only and marks the unused stages', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await chooseFile(page, 'audio_only.m4a');
  await expect(page.getByLabel('Modality')).toHaveValue('av');
  await runCaption(page, 'done');
  await expect(page.getByTestId('modality-note')).toHaveText('The file has no video track: the caption uses the audio only.');
  for (const stage of ['decode', 'vision']) await expect(page.getByTestId(`stage-${stage}`)).toHaveAttribute('data-state', 'skipped');
  for (const stage of ['audio', 'prefill', 'generate']) await expect(page.getByTestId(`stage-${stage}`)).toHaveAttribute('data-state', 'done');
  await expect(page.getByTestId('history-item').first().getByTestId('history-settings')).toContainText('no video track');
  // Why the model runs on WASM here.
  await expect(page.getByTestId('backend-reason')).toHaveText('WASM, because “Force WASM” is on.');
});

/** Whether any word of the element's text is broken over two lines. */
async function wordsBroken(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const broken: string[] = [];
    for (const el of document.querySelectorAll(sel)) {
      const node = [...el.childNodes].find((n) => n.nodeType === Node.TEXT_NODE) as Text | undefined;
      if (!node) continue;
      for (const m of node.data.matchAll(/[^\s-]+/g)) { // (a break after a hyphen is a line break, not a split word)
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
    return broken;
  }, selector);
}

test('360 px: frame times, audio-window labels and compare headers stay readable; one timestamp format', async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 360, height: 780 });
  await openApp(page, { wasm: true, maxNewTokens: 6 });
  await shot(page, '360-empty');
  await chooseFile(page, 'long40.mp4');
  await runCaption(page, 'done');
  await expect(page.getByTestId('frame')).toHaveCount(30);

  // Frame labels: a subset, none overlapping, all inside the timeline; every one m:ss.s.
  const labels = page.getByTestId('frame-time');
  const boxes = await labels.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })));
  const timeline = (await page.locator('.timeline').boundingBox())!;
  expect(boxes.length).toBeGreaterThan(2);
  expect(boxes.length).toBeLessThan(30);
  for (let i = 1; i < boxes.length; i++) expect(boxes[i].left).toBeGreaterThanOrEqual(boxes[i - 1].right);
  for (const b of boxes) expect(b.left >= timeline.x - 0.5 && b.right <= timeline.x + timeline.width + 0.5).toBe(true);
  const texts = [
    ...(await labels.allTextContents()),
    ...(await page.locator('.tick').allTextContents()),
    ...(await page.getByTestId('audio-window').evaluateAll((els) => els.map((e) => e.getAttribute('title')!.replace(/^.*: /, '').split('–')).flat())),
  ];
  for (const t of texts) expect(t).toMatch(/^\d+:\d\d\.\d$/);
  await expect(page.getByTestId('file-facts')).toContainText('0:40.0');

  // Audio-window labels stay inside their window.
  const windows = page.getByTestId('audio-window');
  await expect(windows).toHaveCount(2);
  for (let i = 0; i < 2; i++) {
    const w = (await windows.nth(i).boundingBox())!;
    const l = (await windows.nth(i).getByTestId('audio-window-label').boundingBox())!;
    expect(l.x).toBeGreaterThanOrEqual(w.x);
    expect(l.x + l.width).toBeLessThanOrEqual(w.x + w.width + 0.5);
  }
  await page.locator('.timeline').scrollIntoViewIfNeeded();
  await shot(page, '360-done');

  // A second run to compare: headers break between words only.
  await page.getByLabel('Modality').selectOption('a');
  await runCaption(page, 'done');
  const items = page.getByTestId('history-item');
  await items.nth(1).getByTestId('history-select').check();
  await items.nth(0).getByTestId('history-select').check();
  await page.getByTestId('compare-button').click();
  await expect(page.getByTestId('compare')).toBeVisible();
  expect(await wordsBroken(page, '[data-testid="compare"] th, [data-testid="compare"] td')).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByTestId('compare').scrollIntoViewIfNeeded();
  await shot(page, '360-compare');
  await page.keyboard.press('Escape');
  await shot(page, '360-history');
});
