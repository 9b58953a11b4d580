import { expect, test } from '@playwright/test';

/** The page reports what the real browser offers: Chromium with --enable-unsafe-webgpu. */
test('reports the WebGPU adapter and cross-origin isolation', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('SALMONN Captioner');

  // Ask the browser itself, then check the page says the same.
  const truth = await page.evaluate(async () => {
    const nav = navigator as Navigator & { gpu?: GPU };
    const adapter = nav.gpu ? await nav.gpu.requestAdapter() : null;
    return {
      isolated: crossOriginIsolated,
      vendor: adapter?.info.vendor ?? null,
      architecture: adapter?.info.architecture ?? null,
      f16: adapter ? adapter.features.has('shader-f16') : null,
    };
  });
  expect(truth.isolated).toBe(true);
  expect(truth.vendor).not.toBeNull();

  await expect(page.getByTestId('isolated')).toHaveText('yes');
  await expect(page.getByTestId('gpu-adapter')).toContainText(truth.vendor!);
  await expect(page.getByTestId('gpu-adapter')).toContainText(truth.architecture!);
  await expect(page.getByTestId('shader-f16')).toHaveText(truth.f16 ? 'yes' : 'no');
  await expect(page.getByTestId('backend')).toHaveText(/^WebGPU · /);
  await expect(page.getByTestId('wasm-threads')).not.toHaveText('1');
});
