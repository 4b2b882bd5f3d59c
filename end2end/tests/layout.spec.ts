// Every page at a phone's width (390×844) and a laptop's (1280×800): a screenshot of each as a
// test artifact (test-results/screens/page-<name>-<width>.png, and -1280-dark in the dark
// scheme), no sideways scrolling, a top bar that takes one row (the links fold behind "Menu" on
// a phone), and axe-core finding no serious or critical accessibility violation, in the light
// and the dark scheme. The pages hold real rows first: a linked
// session, a long message, a rule, a webhook delivery, a key.
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, linkedSession, shot, signIn } from './helpers';

const WIDTHS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
];

/** What makes a page unusable at this width; empty when none. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth + 1) {
      problems.push(`the page is ${doc.scrollWidth} px wide in a ${window.innerWidth} px window`);
    }
    document.querySelectorAll<HTMLElement>('.table-wrap').forEach((wrap, i) => {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        problems.push(`table ${i + 1} scrolls sideways (${wrap.scrollWidth} px in ${wrap.clientWidth} px)`);
      }
    });
    const bar = document.querySelector<HTMLElement>('header.topbar');
    // One row: the brand, the links (or "Menu") and the account; 4.5 rem at most.
    if (bar && bar.getBoundingClientRect().height > 72) {
      problems.push(`the top bar is ${Math.round(bar.getBoundingClientRect().height)} px high`);
    }
    return problems;
  });
}

/** axe-core's serious and critical findings, each as "rule: the first element it names". */
async function accessibilityProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s), e.g. ${v.nodes[0]?.target.join(' ')}`);
}

async function check(page: Page, path: string, name: string) {
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.goto(path);
    await hydrated(page);
    await shot(page, `page-${name}-${size.width}`);
    expect(await layoutProblems(page), `${path} at ${size.width} px`).toEqual([]);
    expect(await accessibilityProblems(page), `${path} at ${size.width} px`).toEqual([]);
  }
  // The dark scheme (the browser's own setting; main.css follows prefers-color-scheme) has
  // colours of its own, so contrast is checked in it too, at the laptop's width.
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, `page-${name}-1280-dark`);
  expect(await accessibilityProblems(page), `${path} in the dark scheme`).toEqual([]);
  await page.emulateMedia({ colorScheme: 'light' });
}

test('every page fits a phone and a laptop and passes axe-core', async ({ page }) => {
  test.setTimeout(240_000);
  // Signed out first.
  await check(page, '/login', 'login');
  await check(page, '/register', 'register');

  await signIn(page, 'admin');
  const id = await linkedSession(page, 'Toko Tata Letak', '6281200000390');
  const long = 'Halo kak, saya mau pesan '.repeat(20) + 'https://contoh.example/katalog/' + 'x'.repeat(120);
  await page.request.post(`/simulator/sessions/${id}/incoming`, {
    data: { from: '6289900000390', message: long, pushName: 'Ibu Sari' },
  });
  // Our answer: the chat shows both kinds of bubble (ours keeps light colours in the dark scheme).
  expect((await page.request.post(`/send-message?session=${id}`, { data: { to: '6289900000390', message: 'Siap, Bu' } })).status()).toBe(200);
  expect((await page.request.post('/api/auto-reply/rules', { data: { keyword: 'harga', match: 'contains', reply: 'Mulai Rp 10.000' } })).status()).toBe(200);
  expect((await page.request.post('/api/keys', { data: { name: 'kasir' } })).status()).toBe(200);
  // A webhook no one answers: its delivery waits in the log with a failed attempt.
  expect((await page.request.put(`/api/sessions/${id}/webhook`, { data: { url: 'http://127.0.0.1:9/hook', secret: 'rahasia' } })).status()).toBe(200);
  expect((await page.request.post('/api/webhooks/test', { data: { sessionId: id } })).status()).toBe(200);

  for (const [path, name] of [
    ['/sessions', 'sessions'],
    [`/sessions/${id}`, 'session'],
    ['/send', 'send'],
    ['/chats', 'chats'],
    [`/chats?session=${id}&chat=6289900000390`, 'chat'],
    ['/messages', 'messages'],
    ['/auto-reply', 'auto-reply'],
    ['/webhooks', 'webhooks'],
    ['/keys', 'keys'],
    ['/users', 'users'],
    ['/settings', 'settings'],
  ]) {
    await check(page, path, name);
  }
});

test('on a phone the links fold behind Menu, which closes after a link', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'admin');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeHidden();
  await page.getByText('Menu', { exact: true }).click();
  await expect(nav).toBeVisible();
  await nav.getByRole('link', { name: 'Messages' }).click();
  await expect(page).toHaveURL(/\/messages$/);
  await hydrated(page);
  await expect(nav).toBeHidden();
  // At a laptop's width the links are always there.
  await page.setViewportSize({ width: 1280, height: 800 });
  await expect(nav).toBeVisible();
});

test('the first Tab reaches "Skip to content", which moves the focus to the page', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/messages');
  await hydrated(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
});
