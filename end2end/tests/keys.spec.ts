// API keys for a session are chosen from the owner's sessions (no ids typed), and the webhook
// log is filtered by choosing a session too.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, signIn } from './helpers';

test('a key for one session: the session is picked among its owner\'s sessions', async ({ page }) => {
  await signIn(page, 'admin');
  const id = await linkedSession(page, 'Toko Kunci', '6281200000777');
  await page.goto('/keys');
  await hydrated(page);
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create key' }) });
  const sessionPick = form.getByLabel('Session (optional)');
  // "Me" (the admin) owns Toko Kunci; it is offered with its number.
  await expect(sessionPick.locator('option', { hasText: 'Toko Kunci (+6281200000777)' })).toHaveCount(1);
  // Another owner's sessions are not offered for the admin's key, and back.
  await form.getByLabel('Owner').selectOption({ label: 'budi' });
  await expect(sessionPick.locator('option', { hasText: 'Toko Kunci' })).toHaveCount(0);
  await form.getByLabel('Owner').selectOption({ label: 'Me' });

  await form.getByLabel('Name').fill('kasir toko kunci');
  await sessionPick.selectOption({ label: 'Toko Kunci (+6281200000777)' });
  await form.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-key')).toBeVisible();
  const keys = await (await page.request.get('/api/keys?limit=100')).json();
  const made = keys.find((k: { name: string }) => k.name === 'kasir toko kunci');
  expect(made.sessionId).toBe(id);
  // The form is ready for the next key: no name, any session.
  await expect(form.getByLabel('Name')).toHaveValue('');
  await expect(sessionPick).toHaveValue('');

  // The webhook log's session filter is a choice as well: it shows that session's deliveries.
  expect((await page.request.put(`/api/sessions/${id}/webhook`, { data: { url: 'http://127.0.0.1:9/kunci', secret: 'rahasia' } })).status()).toBe(200);
  expect((await page.request.post('/api/webhooks/test', { data: { sessionId: id } })).status()).toBe(200);
  const theirs = await (await page.request.get(`/api/webhooks/deliveries?session=${id}`)).json();
  await page.goto('/webhooks');
  await hydrated(page);
  const filter = page.locator('.filters').getByLabel('Session');
  await filter.selectOption({ label: 'Toko Kunci (+6281200000777)' });
  const rows = page.getByTestId('deliveries').locator('tr[data-status]');
  await expect(rows).toHaveCount(theirs.length);
  await expect(rows.first()).toContainText('webhook.test');
});
