/** Helpers for the app specs (e2e/app*.spec.ts): fixtures, settings, screenshots. */
import { expect, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const FIXTURES = resolve('e2e/fixtures/out');
export const SHOTS = resolve('.test-output/screenshots');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

interface FixtureManifest {
  broken: Record<string, { browser: string[]; why: string }>;
  facts: Record<string, { duration: number; fps?: number; frames?: number }>;
}

export function fixtureManifest(): FixtureManifest {
  return JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as FixtureManifest;
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export interface Setup {
  wasm?: boolean;
  /** With wasm false: use WebGPU even on the software adapter (else auto passes it over for WASM). */
  softwareGpu?: boolean;
  maxNewTokens?: number;
  /** The page to open: the dev server's root unless given (e.g. the production preview). */
  url?: string;
  /** The model preset to select (default 'tiny': a new user's default is the lite preset, which downloads from the Hub). */
  preset?: string;
}

/** Opens the app with fresh storage and sets the switches most tests need. */
export async function openApp(page: Page, { wasm = true, maxNewTokens = 16, url = '/', softwareGpu = false, preset = 'tiny' }: Setup = {}): Promise<void> {
  await page.goto(url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('SALMONN Captioner');
  await page.locator('#preset').selectOption(preset);
  const force = page.getByTestId('force-wasm');
  if (wasm) await force.check();
  else await force.uncheck();
  if (!wasm) {
    const soft = page.getByTestId('software-gpu');
    if (softwareGpu) await soft.check();
    else await soft.uncheck();
  }
  await page.getByLabel('Max new tokens').fill(String(maxNewTokens));
}

export async function chooseFile(page: Page, name: string): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(fixture(name));
  await expect(page.getByTestId('file-facts')).toContainText(name);
}

/** Counts the distinct texts the caption region shows (streaming = many). */
export async function watchCaption(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __captionTexts: string[] };
    w.__captionTexts = [];
    const obs = new MutationObserver(() => {
      const el = document.querySelector('[data-testid="caption-text"]');
      const t = el?.textContent ?? '';
      if (t && w.__captionTexts[w.__captionTexts.length - 1] !== t) w.__captionTexts.push(t);
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

export async function captionTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __captionTexts: string[] }).__captionTexts);
}

export async function runCaption(page: Page, expected: 'done' | 'cancelled' | 'error' = 'done'): Promise<void> {
  await page.getByTestId('caption-button').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', expected, { timeout: 150_000 });
}
