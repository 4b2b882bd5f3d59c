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

  const wasm = page.waitForResponse((r) => /\/pkg\/[0-9a-f]{16}\/kabar\.wasm$/.test(r.url()));
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

// The next visit on the same connection: the bundle's files have hashed names and are served
// `immutable`, so the browser takes them from its cache without asking the server again; only
// the page itself crosses the slow link. The server stamps every answer with its own
// x-request-id, so an answer seen twice is one the browser kept.
test('repeat visit on slow 3G: the bundle comes from the cache, unasked', async ({ page, context }) => {
  test.setTimeout(120_000);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const answers: { url: string; id: string }[] = [];
  cdp.on('Network.responseReceived', (e) => {
    if (/\/pkg\/[0-9a-f]{16}\//.test(e.response.url)) {
      answers.push({ url: e.response.url, id: e.response.headers['x-request-id'] ?? '' });
    }
  });
  await page.goto('/login');
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached({ timeout: 60_000 });
  const first = new Set(answers.map((a) => a.id));
  expect(first.size, 'the first visit fetched the bundle').toBeGreaterThanOrEqual(4);
  answers.length = 0;

  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  const start = Date.now();
  // A new navigation, as following a bookmark would be (a reload revalidates on purpose).
  await page.goto('/login?again', { waitUntil: 'commit' });
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached({ timeout: 110_000 });
  const hydrated = Date.now() - start;
  const asked = answers.filter((a) => !first.has(a.id)).map((a) => a.url);
  expect(asked, 'bundle files the server was asked for again').toEqual([]);
  console.log(
    `slow 3G repeat visit of /login: hydrated after ${(hydrated / 1000).toFixed(1)} s; ` +
      `${answers.length} bundle files from the cache, none asked for again`,
  );
});
