// Runs first (files run in name order, one worker): it registers the first account, the admin.
// The foundation in a browser: the first account is the admin, sees the admin navigation,
// creates an API key and sees its secret exactly once; a second account sees no admin pages.
import { test, expect } from '@playwright/test';
import { hydrated, register, shot, signOut, PASSWORD } from './helpers';

test('first admin creates an API key and sees it once; a user sees no admin pages', async ({ browser }) => {
  const adminCtx = await browser.newContext();
  const page = await adminCtx.newPage();
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await shot(page, '01-login');

  await register(page, 'admin');
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const item of ['Sessions', 'Auto-reply', 'Webhooks', 'API keys', 'Users', 'Settings']) {
    await expect(nav.getByRole('link', { name: item })).toBeVisible();
  }
  await expect(page.getByText('Simulator engine')).toBeVisible();
  await shot(page, '02-sessions');

  await nav.getByRole('link', { name: 'API keys' }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await expect(page.getByText('No API keys yet.')).toBeVisible();
  await page.getByLabel('Name').fill('shop backend');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('new-key');
  await expect(secret).toHaveText(/^kbr_[A-Za-z0-9_-]{32,}$/);
  const key = (await secret.textContent())!;
  await expect(page.getByTestId('keys')).toContainText('shop backend');
  await shot(page, '03-key-created');

  // The key works against the API, as its owner.
  const me = await page.request.get('/api/me', { headers: { 'X-API-KEY': key } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe('admin');

  // Shown once: after a reload only the prefix is listed.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('keys')).toContainText('shop backend');
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  expect(await page.content()).not.toContain(key);

  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByTestId('users')).toContainText('admin');
  await shot(page, '04-users');

  // Lists show 50 at a time: with 51 accounts the Users page has a second page of one.
  for (let i = 0; i < 50; i++) {
    const made = await page.request.post('/api/users', { data: { username: `pager${i}`, password: PASSWORD } });
    expect(made.status()).toBe(200);
  }
  await page.reload();
  await hydrated(page);
  const rows = page.getByTestId('users').locator('tbody tr');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText('admin');
  await page.getByTestId('next-page').click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('pager');
  await expect(page.getByTestId('next-page')).toBeHidden();
  await page.getByRole('button', { name: 'First page' }).click();
  await expect(rows).toHaveCount(50);
  await nav.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByLabel('Anyone may create an account on the sign-in page')).toBeChecked();
  await shot(page, '05-settings');

  // A second person registers: a plain user, without admin navigation or pages.
  const userCtx = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const userPage = await userCtx.newPage();
  await register(userPage, 'budi');
  const userNav = userPage.getByRole('navigation', { name: 'Main' });
  // On a phone the links wait behind "Menu".
  await expect(userNav).toBeHidden();
  await userPage.locator('label.menu-button').click();
  await expect(userNav.getByRole('link', { name: 'Sessions' })).toBeVisible();
  for (const item of ['Users', 'Settings']) {
    await expect(userNav.getByRole('link', { name: item })).toHaveCount(0);
  }
  // Their own API keys are theirs to make.
  await expect(userNav.getByRole('link', { name: 'API keys' })).toBeVisible();
  await shot(userPage, '06-user-mobile');
  await userPage.goto('/users');
  await expect(userPage.getByRole('alert')).toContainText('You are not allowed to do that.');
  await expect(userPage.getByRole('alert')).toHaveAttribute('title', 'FORBIDDEN');

  // Signing out leads back to the sign-in page; signing in again works.
  await signOut(userPage);
  await expect(userPage).toHaveURL(/\/login$/);
  await hydrated(userPage);
  await userPage.getByLabel('Username').fill('budi');
  await userPage.getByLabel('Password').fill(PASSWORD);
  await userPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(userPage).toHaveURL(/\/sessions$/);
});
