// Before the WebAssembly arrives — a slow first load, or a browser without JavaScript — the
// forms a person needs first still work as plain HTML posts, and nothing typed into a form
// (a password least of all) ever lands in a URL.
import { test, expect } from '@playwright/test';
import { PASSWORD } from './helpers';

test.use({ javaScriptEnabled: false });

test('without JavaScript: register, sign in, add a session, send a text and answer in its chat', async ({ page }) => {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));

  await page.goto('/register');
  await page.getByLabel('Username').fill('tanpa-js');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  // The server's answer comes back to the form, in words, with the code on hover.
  await expect(page).toHaveURL(/\/register\?error=INVALID_REQUEST/);
  await expect(page.getByTestId('form-error')).toContainText('at least 8 characters');
  await expect(page.getByTestId('form-error')).toHaveAttribute('title', 'INVALID_REQUEST');
  await page.getByLabel('Username').fill('tanpa-js');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/sessions$/);

  await page.context().clearCookies();
  await page.goto('/login');
  await page.getByLabel('Username').fill('tanpa-js');
  await page.getByLabel('Password').fill('wrong-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/login\?error=/);
  await expect(page.getByTestId('form-error')).toBeVisible();
  await page.getByLabel('Username').fill('tanpa-js');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sessions$/);

  await page.getByLabel('Name').fill('Toko Tanpa JS');
  await page.getByRole('button', { name: 'Add session' }).click();
  await expect(page).toHaveURL(/\/sessions\/[\w-]+$/);
  const id = page.url().split('/').pop();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111119' } })).status()).toBe(200);

  await page.goto('/send');
  await expect(page.getByLabel(/Toko Tanpa JS/)).toBeChecked();
  await page.getByLabel('To', { exact: true }).fill('6282222222229');
  await page.getByLabel('Message').fill('Halo tanpa JavaScript');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page).toHaveURL(/\/messages$/);
  await expect(page.getByText('Halo tanpa JavaScript')).toBeVisible();
  const sent = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent.map((m: { message: string }) => m.message)).toEqual(['Halo tanpa JavaScript']);

  // The chat it went to, and an answer from the Chats page.
  await page.goto('/chats');
  await page.getByTestId('chats').getByRole('link', { name: /6282222222229/ }).click();
  await expect(page).toHaveURL(new RegExp(`/chats\\?session=${id}&chat=6282222222229$`));
  await page.getByPlaceholder('Write a message').fill('Jawaban tanpa JavaScript');
  await page.getByTestId('reply').getByRole('button', { name: 'Send' }).click();
  await expect(page).toHaveURL(new RegExp(`/chats\\?session=${id}&chat=6282222222229$`));
  await expect(page.getByTestId('thread')).toContainText('Jawaban tanpa JavaScript');

  // A form that needs the script says so instead of failing silently.
  await page.goto('/webhooks');
  await page.locator('input[name="url"]').first().fill('https://example.com/kabar');
  await page.getByRole('button', { name: /^Save/ }).first().click();
  await expect(page.getByTestId('form-error')).toContainText('JavaScript');

  // Signing out: the account's menu opens natively, and Sign out posts.
  await page.getByTestId('username').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await page.request.get('/api/me')).status()).toBe(401);

  for (const url of urls) {
    expect(url, 'a password in a URL').not.toContain(PASSWORD);
    expect(url).not.toContain('wrong-password-1');
    expect(url).not.toContain('password=');
  }
});
