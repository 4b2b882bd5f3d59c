// Two languages: the dashboard follows the browser's language, and the switch in the top bar
// persists (a cookie) across reloads and new pages, and takes every page with it.
import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, register, shot } from './helpers';

test('an Indonesian browser gets Bahasa Indonesia; the switch persists both ways', async ({ browser }) => {
  const idCtx = await browser.newContext({ locale: 'id-ID' });
  const id = await idCtx.newPage();
  await id.goto('/login');
  await hydrated(id);
  await expect(id.locator('html')).toHaveAttribute('lang', 'id');
  await expect(id.getByRole('heading', { name: 'Masuk ke Kabar' })).toBeVisible();
  await expect(id.getByLabel('Nama pengguna')).toBeVisible();
  await idCtx.close();

  const ctx = await browser.newContext({ locale: 'en-US' });
  const page = await ctx.newPage();
  await register(page, 'bahasa-user');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Sessions' })).toBeVisible();

  await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
  const navId = page.getByRole('navigation', { name: 'Utama' });
  await expect(navId.getByRole('link', { name: 'Sesi' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'id');
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Tambah sesi' })).toBeVisible();
  await shot(page, '14-sessions-id');

  // It persists: another page, a reload, and the page still works (hydrated, interactive).
  await navId.getByRole('link', { name: 'Pesan' }).click();
  await expect(page).toHaveURL(/\/messages$/);
  await expect(page.getByRole('heading', { name: 'Pesan' })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByText('Belum ada pesan.', { exact: false })).toBeVisible();
  await navId.getByRole('link', { name: 'Balas otomatis' }).click();
  await expect(page.getByText('Belum ada aturan. Tambahkan di atas.')).toBeVisible();
  await expect(page.getByLabel('Kata kunci')).toBeVisible();
  await shot(page, '15-auto-reply-id');

  await page.getByRole('button', { name: 'English' }).click();
  await expect(nav.getByRole('link', { name: 'Sessions' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await ctx.close();
});

test('errors speak the reader language, keep the API code on hover, and offer a way back', async ({ browser }) => {
  const ctx = await browser.newContext({ locale: 'id-ID' });
  const page = await ctx.newPage();
  // A taken username, from the hydrated form: the words are Indonesian, the code is a tooltip.
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Nama pengguna').fill('admin');
  await page.getByLabel('Kata sandi').fill(PASSWORD);
  await page.getByRole('button', { name: 'Buat akun' }).click();
  const taken = page.getByRole('alert').filter({ hasText: 'Nama pengguna itu sudah dipakai' });
  await expect(taken).toBeVisible();
  await expect(taken).toHaveAttribute('title', 'USERNAME_TAKEN');
  // At the field it is about: under the username, which is marked.
  await expect(page.locator('label:has(input[name="username"]) [role="alert"]')).toHaveText(/Nama pengguna itu sudah dipakai/);
  // The server's detail after the words is English, and marked so for screen readers.
  await expect(page.locator('label:has(input[name="username"]) [role="alert"] .detail')).toHaveAttribute('lang', 'en');
  await expect(page.locator('input[name="username"]')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('input[name="password"]')).toHaveAttribute('aria-invalid', 'false');

  // A session address that leads nowhere says so in words, with a link back to the list.
  await register(page, 'salah-alamat', '/register', 'Buat akun', 'Nama pengguna', 'Kata sandi');
  await page.goto('/sessions/ses_tidak_ada');
  await hydrated(page);
  const lost = page.getByRole('alert');
  await expect(lost).toContainText('Sesi ini tidak ada, atau bukan milik Anda.');
  await expect(lost).toHaveAttribute('title', 'SESSION_NOT_FOUND');
  await lost.getByRole('link', { name: '← Sesi' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  // Lost inside another section, the way back is to that section's start.
  await page.goto('/chats?session=ses_tidak_ada&chat=6281200000000');
  await hydrated(page);
  // (The chat list and the thread both say so.)
  const lostChat = page.getByRole('alert').filter({ hasText: 'Sesi ini tidak ada' }).first();
  await lostChat.getByRole('link', { name: '← Obrolan' }).click();
  await expect(page).toHaveURL(/\/chats$/);
  await ctx.close();
});
