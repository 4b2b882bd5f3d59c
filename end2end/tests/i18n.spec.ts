// Two languages: the dashboard follows the browser's language, and the switch in the top bar
// persists (a cookie) across reloads and new pages, and takes every page with it.
import { test, expect } from '@playwright/test';
import { hydrated, register, shot } from './helpers';

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
