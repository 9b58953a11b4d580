import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { expect, test, type Download, type Page } from '@playwright/test';
import { chooseFile, fixture, openApp, runCaption } from './app/helpers';
import type { CaptionReport } from '../src/core/report';

/**
 * One truth for numbers (ARCHITECTURE): a setting the user left alone follows the bundle,
 * so the app and the CLI give the same run for the same bundle, file and changed settings.
 * The app's run is read from its own .json export; the CLI's from `--json`.
 */

async function readDownload(d: Download): Promise<string> {
  return readFile((await d.path())!, 'utf8');
}

function cli(...args: string[]): CaptionReport {
  const out = execFileSync('npx', ['tsx', 'src/cli/caption.ts', fixture('short.mp4'), '--json', ...args], { encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  return JSON.parse(out) as CaptionReport;
}

/** The same frames; timestamps as each side's decoder reports them (mediabunny rounds to the microsecond, ffprobe does not). */
function expectSameFrames(a: CaptionReport, b: CaptionReport): void {
  expect(a.frames.map((f) => f.index)).toEqual(b.frames.map((f) => f.index));
  a.frames.forEach((f, i) => expect(f.timestamp).toBeCloseTo(b.frames[i].timestamp, 5));
}

async function exportedReport(page: Page): Promise<CaptionReport> {
  const newest = page.getByTestId('history-item').first();
  await newest.getByRole('button', { name: /^Show run/ }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), newest.getByTestId('export-json').click()]);
  return (JSON.parse(await readDownload(download)) as { report: CaptionReport }).report;
}

test('the app and the CLI make the same run: settings left alone follow the bundle, changed ones apply on both', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, { wasm: true });
  await page.getByLabel('Max new tokens').fill(''); // left to the bundle
  await chooseFile(page, 'short.mp4');
  await runCaption(page, 'done');
  const app = await exportedReport(page);
  const ref = cli();
  expect(app.options).toEqual(ref.options);
  expect(app.options.maxNewTokens).toBe(1024); // the tiny bundle's generation.maxNewTokens, not an app default
  expectSameFrames(app, ref);
  expect(app.layout).toEqual(ref.layout);
  expect(app.promptTokens).toBe(ref.promptTokens);
  expect(app.generatedTokenIds).toEqual(ref.generatedTokenIds);

  // Changed settings: the same changes on the command line give the same run.
  await page.getByLabel('Max new tokens').fill('9');
  await page.getByLabel('Frames per second').fill('2');
  await page.getByLabel('Interleave').selectOption('timestamp');
  await runCaption(page, 'done');
  const changed = await exportedReport(page);
  const changedRef = cli('--max-new-tokens', '9', '--fps', '2', '--interleave', 'timestamp');
  expect(changed.options).toEqual(changedRef.options);
  expectSameFrames(changed, changedRef);
  expect(changed.generatedTokenIds).toEqual(changedRef.generatedTokenIds);
  expect(changed.generatedTokenIds).toHaveLength(9);
});
