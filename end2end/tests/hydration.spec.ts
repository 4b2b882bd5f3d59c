// Every page hydrates without an error in the browser console: a hydration mismatch leaves a
// page that looks right but does nothing, so it is checked on its own.
import { test, expect } from '@playwright/test';
import { hydrated, register } from './helpers';

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
  await page.request.post('/api/keys', { data: { name: 'k' } }); // 403 for non-admins; fine
  for (const path of ['/sessions', `/sessions/${id}`, '/send', '/chats', `/chats?session=${id}&chat=6281234567890`, '/messages', '/auto-reply', '/webhooks', '/keys', '/users', '/settings', '/login', '/register']) {
    await page.goto(path);
    await hydrated(page);
    await page.waitForTimeout(300);
    expect(errors, `console errors on ${path}`).toEqual([]);
  }
});
