// Every page hydrates without an error in the browser console: a hydration mismatch leaves a
// page that looks right but does nothing, so it is checked on its own.
import { test, expect } from '@playwright/test';
import { hydrated, register, signIn } from './helpers';

test('every dashboard page hydrates cleanly', async ({ page }) => {
  const errors: string[] = [];
  // HTTP statuses (an admin page answers a user 403) are the browser's log, not our errors.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await register(page, 'hydration-check');
  const created = await page.request.post('/api/sessions', { data: { name: 'Hydrate' } });
  const { id } = await created.json();
  await page.request.post('/api/keys', { data: { name: 'k' } });
  for (const path of ['/sessions', `/sessions/${id}`, '/send', '/chats', `/chats?session=${id}&chat=6281234567890`, '/messages', '/auto-reply', '/webhooks', '/keys', '/users', '/settings', '/login', '/register']) {
    await page.goto(path);
    await hydrated(page);
    await page.waitForTimeout(300);
    expect(errors, `console errors on ${path}`).toEqual([]);
  }
});

// On some loads the server renders a page's view two or three times while it waits for data
// (Leptos' <Suspense> walks its children again, and each walk makes the page and its resources
// anew: `__PENDING_RESOURCES` differs between loads of the same page). A page must hydrate
// whichever render the HTML came from: a Send page with a WASM-side Copy button failed to on
// about one load in twelve (a dead page). The admin's busiest pages, loaded several times
// over, must hydrate every time.
test('pages hydrate on every load, not just most', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin');
  for (const path of ['/send', '/sessions', '/keys']) {
    for (let i = 0; i < 6; i++) {
      await page.goto(path);
      await hydrated(page);
      expect(errors, `load ${i + 1} of ${path}`).toEqual([]);
    }
  }
});
