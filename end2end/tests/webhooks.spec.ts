// Webhooks in the browser: a refused URL says why at the URL; point a session's webhook at a
// local receiver that fails three times, send a test event, and watch the live log say when it tries next, show the attempts
// under the row, and end delivered, all without a click on Refresh.
import { test, expect } from '@playwright/test';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { hydrated, register, shot } from './helpers';

test('a delivery and its retried failure show in the log', async ({ page }) => {
  const received: string[] = [];
  let calls = 0;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls += 1;
      received.push(body);
      // Three failures (retried after 1, 2 and 4 s here), then success.
      res.writeHead(calls <= 3 ? 500 : 200).end(calls <= 3 ? 'not yet' : 'ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  await register(page, 'hook-owner');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Webhook' } });
  expect(created.status()).toBe(200);

  await page.goto('/webhooks');
  await hydrated(page);
  const form = page.locator('form[data-testid^="webhook-"]');
  // A URL the server refuses (the browser takes any scheme): the reason shows at the URL,
  // not under the card, and goes once a good one is saved.
  const urlInput = form.locator('input[name="url"]');
  await urlInput.fill('ftp://127.0.0.1/hook');
  await form.getByRole('button', { name: 'Save' }).click();
  const urlError = form.locator('label:has(input[name="url"]) [data-field="url"]');
  await expect(urlError).toContainText('http:// or https://');
  await expect(urlError).toHaveAttribute('title', 'INVALID_REQUEST');
  await expect(urlInput).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('form[data-testid^="webhook-"] ~ .error')).toHaveCount(0);
  await urlInput.fill(url);
  await form.getByLabel('Secret').fill('rahasia');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(/Active\. Secret: ••••••••/)).toBeVisible();
  await expect(urlError).toHaveCount(0);
  await expect(urlInput).toHaveAttribute('aria-invalid', 'false');
  await form.getByRole('button', { name: 'Send test event' }).click();

  const log = page.getByTestId('deliveries');
  await expect(log.locator('tr[data-status]').first()).toContainText('webhook.test');
  // The first attempts fail (HTTP 500): while it waits, the row says when it is tried next,
  // to the second. Its attempts open under the row and follow by themselves.
  const pending = log.locator('tr[data-status="pending"]');
  await expect(pending).toContainText(/next try at \d\d:\d\d:\d\d UTC/);
  await pending.getByRole('button', { name: 'Attempts' }).click();
  const attempts = page.getByTestId('attempts');
  await expect(attempts).toContainText('not yet');
  expect(await page.locator('tr.attempts-row').evaluate((row) => row.previousElementSibling?.getAttribute('data-status'))).toBe('pending');
  // The fourth attempt succeeds; the log and the open attempts show it without a click.
  await expect(log.locator('tr[data-status="delivered"]')).toHaveCount(1, { timeout: 20_000 });
  await expect(log.locator('tr[data-status="delivered"]')).toContainText('4');
  await expect(attempts).toContainText('500');
  await expect(attempts).toContainText('200');
  await shot(page, '09-webhooks');

  // Removing the endpoint asks first; "no" keeps it. Then "yes": the form is empty again and
  // the API has none.
  const sid = (await created.json()).id;
  let question = '';
  page.once('dialog', (d) => { question = d.message(); void d.dismiss(); });
  await form.getByRole('button', { name: 'Remove' }).click();
  await expect.poll(() => question).toContain('Events stop being sent');
  expect((await page.request.get(`/api/sessions/${sid}/webhook`)).status()).toBe(200);
  await expect(page.getByText(/Active\. Secret/)).toHaveCount(1);
  page.once('dialog', (d) => void d.accept());
  await form.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText(/Active\. Secret/)).toHaveCount(0);
  expect((await page.request.get(`/api/sessions/${sid}/webhook`)).status()).toBe(404);

  expect(received.length).toBe(4);
  expect(received[0]).toBe(received[1]); // the same bytes on every attempt
  expect(JSON.parse(received[1]).event).toBe('webhook.test');
  receiver.close();
});
