// A first visit on a slow phone connection: the bundle arrives compressed, and the page is
// usable before it (the forms post as plain HTML). Prints what it measured; asserts no timing.
import { test, expect } from '@playwright/test';

// Chrome DevTools' "Slow 3G": 2 s round trips, 50 kB/s each way.
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50_000, uploadThroughput: 50_000 };

test('cold load on slow 3G: compressed assets, then hydration', async ({ page, context }) => {
  test.setTimeout(120_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  const encoded = new Map<string, number>();
  cdp.on('Network.loadingFinished', (e) => encoded.set(e.requestId, e.encodedDataLength));
  const ids = new Map<string, string>();
  cdp.on('Network.responseReceived', (e) => ids.set(e.response.url, e.requestId));

  const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/kabar.wasm'));
  const start = Date.now();
  await page.goto('/login', { waitUntil: 'commit' });
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  const formShown = Date.now() - start;
  const response = await wasm;
  const encoding = response.headers()['content-encoding'];
  expect(['br', 'gzip']).toContain(encoding);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached({ timeout: 110_000 });
  const hydrated = Date.now() - start;
  const id = ids.get(response.url());
  const bytes = id ? encoded.get(id) ?? 0 : 0;
  // Compressed on the wire: well under the 1.4 MB the file is.
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThan(700_000);
  console.log(
    `slow 3G cold load of /login: form usable after ${(formShown / 1000).toFixed(1)} s, ` +
      `hydrated after ${(hydrated / 1000).toFixed(1)} s; kabar.wasm ${Math.round(bytes / 1024)} KiB on the wire (${encoding})`,
  );
});
