// With registration closed, /register says so instead of showing a form the server refuses,
// and the sign-in page offers no link to it; opened again, both come back.
import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './helpers';

test('a closed registration says so on /register, and the sign-in page links to it only when open', async ({ page, browser }) => {
  await signIn(page, 'admin'); // registered by 00-foundation
  const setOpen = async (open: boolean) =>
    expect((await page.request.put('/api/settings', { data: { allowRegistration: open } })).status()).toBe(200);
  const visitor = await (await browser.newContext()).newPage();
  try {
    await setOpen(false);
    await visitor.goto('/register');
    await hydrated(visitor);
    await expect(visitor.getByTestId('registration-closed')).toHaveText(
      'Registration is closed on this server. Ask its administrator for an account.',
    );
    await expect(visitor.getByRole('button', { name: 'Create account' })).toHaveCount(0);
    await expect(visitor.getByLabel('Password')).toHaveCount(0);
    await visitor.goto('/login');
    await hydrated(visitor);
    await expect(visitor.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(visitor.getByRole('link', { name: 'Create one' })).toHaveCount(0);
  } finally {
    await setOpen(true); // the later files register their own people
  }
  await visitor.goto('/register');
  await hydrated(visitor);
  await expect(visitor.getByRole('button', { name: 'Create account' })).toBeVisible();
  await expect(visitor.getByTestId('registration-closed')).toHaveCount(0);
  await visitor.goto('/login');
  await expect(visitor.getByRole('link', { name: 'Create one' })).toBeVisible();
});
