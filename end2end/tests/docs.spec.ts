// /docs works offline: Swagger UI, served from the binary, renders /openapi.json with every
// request to anywhere but the test server refused (and none is even attempted).
import { test, expect } from '@playwright/test';
import { shot } from './helpers';

test('the API docs render with no internet', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const elsewhere: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`)) return route.continue();
    elsewhere.push(url);
    return route.abort();
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto('/docs');
  await expect(page.locator('.swagger-ui .info .title')).toContainText('Kabar API');
  // The original's three paths, the management API and the simulator's are all there.
  for (const path of ['/status', '/send-message', '/send-interactive', '/api/sessions', '/simulator/sessions/{id}/scan']) {
    await expect(page.locator(`.opblock[id] [data-path="${path}"]`).first()).toBeVisible();
  }

  // An operation opens with the original's example.
  const send = page.locator('.opblock-post', { has: page.locator('[data-path="/send-message"]') });
  await send.locator('.opblock-summary').click();
  await expect(send.locator('.opblock-body')).toContainText('Halo dari API!');
  await expect(send.locator('.opblock-body')).toContainText('SESSION_NOT_CONNECTED');
  await shot(page, 'docs');

  expect(elsewhere, 'requests that left the server').toEqual([]);
  expect(errors, 'errors in the page').toEqual([]);
});
