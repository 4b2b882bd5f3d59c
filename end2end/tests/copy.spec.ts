// Copy buttons beside what people copy (a session id, a new key, a curl command, a pairing code,
// an event id), run by public/copy.js. On a plain-HTTP address other than localhost the browser
// has no Clipboard API (no secure context): the button copies by selection there.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, signIn } from './helpers';

test('Copy puts the new key and a session id on the clipboard', async ({ page }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await register(page, 'copier');
  const id = await linkedSession(page, 'Toko Salin', '6281200000780');
  await page.goto('/sessions');
  await hydrated(page);
  const row = page.getByTestId('sessions').locator('tr', { has: page.locator(`a[href="/sessions/${id}"]`) });
  await row.getByRole('button', { name: 'Copy' }).click();
  await expect(row.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
  // The note goes back to "Copy".
  await expect(row.getByRole('button', { name: 'Copy' })).toBeVisible({ timeout: 5000 });

  await page.goto('/keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('salin');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-key').textContent())!.trim();
  await page.locator('.secret').getByRole('button', { name: 'Copy' }).click();
  await expect(page.locator('.secret').getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
});

test('without the Clipboard API (plain HTTP on a LAN address) Copy still copies', async ({ browser }) => {
  const context = await browser.newContext();
  // What a browser reports at http://192.168.1.5:3000: not a secure context.
  await context.addInitScript(() => {
    Object.defineProperty(window, 'isSecureContext', { get: () => false });
    document.addEventListener('copy', () => {
      const el = document.activeElement as HTMLTextAreaElement | null;
      (window as unknown as { copied: string }).copied =
        el && 'value' in el ? el.value.substring(el.selectionStart, el.selectionEnd) : '';
    });
  });
  const page = await context.newPage();
  await signIn(page, 'copier');
  await page.goto('/send');
  await hydrated(page);
  await page.getByLabel('To', { exact: true }).fill('6281234567890');
  const curl = (await page.getByTestId('send-curl').textContent())!;
  const section = page.locator('section').filter({ has: page.getByTestId('send-curl') });
  const copy = section.getByRole('button', { name: 'Copy' });
  await copy.click();
  await expect(section.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { copied: string }).copied)).toBe(curl);
  // The focus stays on the button, and nothing was left in the page.
  await expect(section.getByRole('button', { name: 'Copied' })).toBeFocused();
  await expect(page.locator('body > textarea')).toHaveCount(0);
  await context.close();
});
