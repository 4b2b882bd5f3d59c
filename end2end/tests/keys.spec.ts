// API keys for a session are chosen from the owner's sessions (no ids typed), and the webhook
// log is filtered by choosing a session too. Everyone makes their own keys; an admin sees whose
// sessions are whose, and the Send page offers only sessions that can send.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, signIn, signOut } from './helpers';

test('a user makes, uses and revokes a key of their own; nobody else\'s is shown', async ({ page }) => {
  await register(page, 'key-maker');
  const id = await linkedSession(page, 'Kios Sendiri', '6281200000778');
  // A user's own sessions need no owner column.
  await page.goto('/sessions');
  await hydrated(page);
  await expect(page.getByTestId('sessions').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('sessions').getByRole('columnheader', { name: 'Owner' })).toHaveCount(0);
  await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create key' }) });
  // No owner to pick: a user's keys are their own.
  await expect(form.getByLabel('Owner')).toBeHidden();
  // A blank name is refused at its input, and no key is made.
  const name = form.locator('input[name="name"]');
  await expect(name).toHaveAttribute('maxlength', '64');
  await name.fill('  ');
  await form.getByRole('button', { name: 'Create key' }).click();
  const nameError = form.locator('label:has(input[name="name"]) [data-field="name"]');
  await expect(nameError).toContainText('1 to 64 characters');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  await name.fill('kasir kios');
  await form.getByLabel('Session (optional)').selectOption({ label: 'Kios Sendiri (+6281200000778)' });
  await form.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-key').textContent())!.trim();
  await expect(nameError).toHaveCount(0);
  const rows = page.getByTestId('keys').locator('tbody tr');
  // Only their own key is listed (the admin's keys from earlier tests are not).
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('kasir kios');

  // The key works for its session.
  const status = await page.request.get(`/status?session=${id}`, { headers: { 'X-API-KEY': key } });
  expect(status.status()).toBe(200);

  page.once('dialog', (d) => d.accept());
  await rows.first().getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId('keys')).toHaveCount(0);
  const after = await page.request.get(`/status?session=${id}`, { headers: { 'X-API-KEY': key } });
  expect(after.status()).toBe(401);

  // The Send page points at the Keys page for the key its curl needs.
  await page.goto('/send');
  await hydrated(page);
  await page.locator('section').filter({ has: page.getByTestId('send-curl') }).getByRole('link', { name: 'API keys' }).click();
  await expect(page).toHaveURL(/\/keys$/);
});

test('the admin sees each session\'s owner; Send offers linked sessions, never others\' unlinked ones', async ({ page }) => {
  await register(page, 'unlinked-owner');
  const theirs = (await (await page.request.post('/api/sessions', { data: { name: 'Belum Ditautkan' } })).json()).id;
  await signOut(page);
  await signIn(page, 'admin');
  const row = page.getByTestId('sessions').locator('tr', { has: page.locator(`a[href="/sessions/${theirs}"]`) });
  await expect(row.getByTestId('owner')).toHaveText('unlinked-owner');
  await expect(page.getByTestId('sessions').getByRole('columnheader', { name: 'Owner' })).toBeVisible();

  const mine = await linkedSession(page, 'Toko Admin Kirim', '6281200000779');
  await page.goto('/send');
  await hydrated(page);
  const picker = page.getByRole('group', { name: 'From session' });
  await expect(picker.getByText('Belum Ditautkan')).toHaveCount(0);
  await expect(picker.getByText('Toko Admin Kirim (+6281200000779)')).toBeVisible();
  await expect(picker.locator(`input[value="${mine}"]`).locator('..')).toContainText('(connected)');
  // No raw status codes in the labels.
  await expect(picker).not.toContainText('qr_ready');
});

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
