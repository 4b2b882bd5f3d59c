// Webhooks in the browser: point a session's webhook at a local receiver that fails once,
// send a test event, and watch the log show the failed attempt and the successful retry.
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
      res.writeHead(calls === 1 ? 500 : 200).end(calls === 1 ? 'not yet' : 'ok');
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
  await form.getByLabel('URL').fill(url);
  await form.getByLabel('Secret').fill('rahasia');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(/Active\. Secret: ••••••••/)).toBeVisible();
  await form.getByRole('button', { name: 'Send test event' }).click();

  const log = page.getByTestId('deliveries');
  await expect(log.locator('tr[data-status]').first()).toContainText('webhook.test');
  // The first attempt failed (HTTP 500); the retry a second later succeeds.
  await expect
    .poll(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return log.locator('tr[data-status="delivered"]').count();
    }, { timeout: 20_000 })
    .toBe(1);
  await expect(log.locator('tr[data-status="delivered"]')).toContainText('2');
  await log.getByRole('button', { name: 'Attempts' }).first().click();
  const attempts = page.getByTestId('attempts');
  await expect(attempts).toContainText('500');
  await expect(attempts).toContainText('200');
  await expect(attempts).toContainText('not yet');
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

  expect(received.length).toBe(2);
  expect(received[0]).toBe(received[1]); // the same bytes on every attempt
  expect(JSON.parse(received[1]).event).toBe('webhook.test');
  receiver.close();
});
