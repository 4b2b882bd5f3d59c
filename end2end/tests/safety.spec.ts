// What cannot be taken back asks first and says what it undoes (unlinking a phone, revoking a
// key, deleting a rule, removing a webhook: the last is in webhooks.spec.ts); a form that made
// something empties, so a second click does not make it twice.
import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, linkedSession, signIn } from './helpers';

/** Clicks `button`, answers the confirmation it opens with `accept`, and returns its question. */
async function answer(page: Page, button: ReturnType<Page['getByRole']>, accept: boolean) {
  const asked = page.waitForEvent('dialog');
  const click = button.click();
  const dialog = await asked;
  const question = dialog.message();
  await (accept ? dialog.accept() : dialog.dismiss());
  await click;
  return question;
}

test('unlinking, revoking and deleting ask first and name their consequence; forms empty after success', async ({ page }) => {
  await signIn(page, 'admin'); // registered by 00-foundation

  // API keys: made, the form is empty again; Revoke asks, "no" keeps the key, "yes" revokes it.
  await page.goto('/keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('till in shop 2');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-key')).toBeVisible();
  await expect(page.getByLabel('Name')).toHaveValue('');
  const row = page.getByTestId('keys').locator('tr', { hasText: 'till in shop 2' });
  const kept = await answer(page, row.getByRole('button', { name: 'Revoke' }), false);
  expect(kept).toContain('refused from now on');
  await expect(row).toHaveCount(1);
  const listed = async () =>
    (await (await page.request.get('/api/keys')).json()).filter((k: { name: string }) => k.name === 'till in shop 2').length;
  expect(await listed()).toBe(1);
  await answer(page, row.getByRole('button', { name: 'Revoke' }), true);
  await expect(row).toHaveCount(0);
  expect(await listed()).toBe(0);

  // Users: made, the form is empty again.
  await page.goto('/users');
  await hydrated(page);
  await page.getByLabel('Username').fill('kasir-dua');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByLabel('Username')).toHaveValue('');
  await expect(page.getByLabel('Password')).toHaveValue('');

  // Auto-reply: added, the form is empty again; Delete asks.
  await page.goto('/auto-reply');
  await hydrated(page);
  const add = page.getByTestId('add-rule');
  await add.getByLabel('Keyword').fill('ongkir');
  await add.getByLabel('Reply', { exact: true }).fill('Ongkir gratis di atas Rp 100.000');
  await add.getByRole('button', { name: 'Add rule' }).click();
  const rules = page.getByTestId('rules');
  await expect(rules).toContainText('Ongkir gratis');
  await expect(add.getByLabel('Keyword')).toHaveValue('');
  await expect(add.getByLabel('Reply', { exact: true })).toHaveValue('');
  const ruleRow = rules.locator('tr', { hasText: 'Ongkir gratis' });
  expect(await answer(page, ruleRow.getByRole('button', { name: 'Delete' }), false)).toContain('no automatic answer');
  await expect(ruleRow).toHaveCount(1);
  await answer(page, ruleRow.getByRole('button', { name: 'Delete' }), true);
  await expect(ruleRow).toHaveCount(0);

  // A session's phone: "Unlink phone" (not "Log out", which sat beside "Sign out") asks,
  // saying a new scan is needed; "no" leaves it linked.
  const id = await linkedSession(page, 'Toko Aman', '6281111111190');
  await page.goto(`/sessions/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('linked')).toBeVisible();
  const unlink = page.getByRole('button', { name: 'Unlink phone' });
  expect(await answer(page, unlink, false)).toContain('new QR scan');
  const status = async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status;
  expect(await status()).toBe('connected');
  await answer(page, unlink, true);
  await expect.poll(status).not.toBe('connected');
});
