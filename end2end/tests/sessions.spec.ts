// A session in the browser: create it, watch the QR rotate without reloading, scan it through
// the simulator's control API, and see the page switch to connected by itself.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, shot } from './helpers';

test('the QR refreshes by itself and disappears once scanned', async ({ page }) => {
  await register(page, 'qr-owner');
  // A name of spaces passes the browser's `required`; the server's refusal shows at the input
  // (#20: errors at the field), and the page stays on the list.
  const name = page.locator('input[name="name"]');
  await expect(name).toHaveAttribute('maxlength', '64');
  await name.fill('   ');
  await page.getByRole('button', { name: 'Add session' }).click();
  await expect(page.locator('label:has(input[name="name"]) [data-field="name"]')).toContainText('1 to 64 characters');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(page).toHaveURL(/\/sessions$/);
  await name.fill('Toko Budi');
  await page.getByRole('button', { name: 'Add session' }).click();
  await expect(page).toHaveURL(/\/sessions\/[A-Za-z0-9_-]+$/);
  await hydrated(page);
  const id = page.url().split('/').pop()!;

  const qr = page.locator('img.qr');
  await expect(qr).toBeVisible();
  const first = await qr.getAttribute('src');
  expect(first).toMatch(/^data:image\/png;base64,/);
  await shot(page, '07-session-qr');
  // The simulator rotates the code every 1.5 s here; the page follows over SSE.
  await expect.poll(async () => qr.getAttribute('src'), { timeout: 10_000 }).not.toBe(first);
  const box = await page.locator('.qr-box').boundingBox();

  // Linking by phone number instead: the page shows the code to type on the phone. Something
  // that is no number is refused at the input.
  await page.getByLabel('Or link with a phone number').fill('toko budi');
  await page.getByRole('button', { name: 'Get a code' }).click();
  await expect(page.locator('label:has(input[name="pairPhone"]) [data-field="phoneNumber"]')).toHaveAttribute('title', 'INVALID_PHONE');
  await expect(page.locator('input[name="pairPhone"]')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Or link with a phone number').fill('+62 812-3456-7890');
  await page.getByRole('button', { name: 'Get a code' }).click();
  await expect(page.getByTestId('pair-code')).toHaveText(/^[1-9A-Z]{4}-[1-9A-Z]{4}$/);

  const scan = await page.request.post(`/simulator/sessions/${id}/scan`, {
    data: { phoneNumber: '6281234567890', pushName: 'Toko Budi' },
  });
  expect(scan.status()).toBe(200);
  await expect(page.getByTestId('linked')).toContainText('Toko Budi');
  await expect(page.getByTestId('linked')).toContainText('6281234567890');
  await expect(qr).toHaveCount(0);
  await expect(page.locator('[data-status="connected"]')).toBeVisible();
  const after = await page.locator('.qr-box').boundingBox();
  expect(after?.height).toBe(box?.height); // no layout shift when the QR goes
  await shot(page, '08-session-connected');

  // Rename in place; the heading and the list follow. A blank name is refused at the input.
  const rename = page.locator('input[name="sessionName"]');
  await rename.fill(' ');
  await page.getByRole('button', { name: 'Rename' }).click();
  const renameError = page.locator('label:has(input[name="sessionName"]) [data-field="name"]');
  await expect(renameError).toContainText('1 to 64 characters');
  await expect(rename).toHaveAttribute('aria-invalid', 'true');
  await rename.fill('Toko Budi Jaya');
  await page.getByRole('button', { name: 'Rename' }).click();
  await expect(renameError).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Toko Budi Jaya' })).toBeVisible();

  await page.getByRole('link', { name: '← Sessions' }).click();
  await expect(page.getByTestId('sessions')).toContainText('Toko Budi');
  await expect(page.getByTestId('sessions').locator('[data-status="connected"]')).toBeVisible();
});

test('the Sessions list follows by itself: a new session, its day\'s messages and webhook backlog, and a phone that drops show without a reload', async ({ page }) => {
  await register(page, 'live-owner');
  const list = page.getByTestId('sessions');
  // Made elsewhere (the API) after the page was shown; linked through the simulator.
  const id = await linkedSession(page, 'Toko Langsung', '6281200000555');
  const row = list.locator('tr', { hasText: 'Toko Langsung' });
  await expect(row.locator('[data-status="connected"]')).toBeVisible();
  await expect(row.getByTestId('last-24h')).toHaveText('0 in · 0 out');
  await expect(row.getByTestId('webhook-health')).toHaveText('OK');
  // A customer writes, the shop answers, and the webhook nobody answers holds a delivery: the
  // figures follow without a reload.
  expect((await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from: '6289900000555', message: 'Halo' } })).status()).toBe(200);
  expect((await page.request.post(`/send-message?session=${id}`, { data: { to: '6289900000555', message: 'Halo juga' } })).status()).toBe(200);
  expect((await page.request.put(`/api/sessions/${id}/webhook`, { data: { url: 'http://127.0.0.1:9/langsung', secret: 'rahasia' } })).status()).toBe(200);
  expect((await page.request.post('/api/webhooks/test', { data: { sessionId: id } })).status()).toBe(200);
  await expect(row.getByTestId('last-24h')).toHaveText('1 in · 1 out');
  // Waiting for its next try (1 s, 2 s, 4 s here), then given up: either way not "OK".
  await expect(row.getByTestId('webhook-health')).toHaveText(/waiting|failed/);
  await expect(row.getByTestId('webhook-health')).toHaveClass(/warn|bad/);
  await expect(row).not.toContainText('never');
  // The phone unlinks Kabar: the badge changes on its own (to a new QR code waiting for a scan).
  expect((await page.request.post(`/simulator/sessions/${id}/logout`)).status()).toBe(200);
  await expect(row.locator('[data-status="connected"]')).toHaveCount(0);
  await expect(row.locator('[data-status="qr_ready"]')).toBeVisible();
  // The webhook gives up after its last try (1 s, 2 s, 4 s here): "failed", in red.
  await expect(row.getByTestId('webhook-health')).toHaveText(/failed/, { timeout: 20_000 });
  await expect(row.getByTestId('webhook-health')).toHaveClass(/bad/);
});

test('the Sessions list asks the server nothing while nothing it shows changes', async ({ page }) => {
  await register(page, 'quiet-owner');
  // Waiting for a scan: its QR code turns every 1.5 s here, which the list does not show.
  const made = await page.request.post('/api/sessions', { data: { name: 'Toko Sepi' } });
  expect(made.status()).toBe(200);
  await page.goto('/sessions');
  await hydrated(page);
  const row = page.getByTestId('sessions').locator('tr', { hasText: 'Toko Sepi' });
  await expect(row.locator('[data-status="qr_ready"]')).toBeVisible();
  await page.waitForTimeout(1_000);
  // It waits for the server's word (GET /api/sessions/events) instead of asking every few
  // seconds.
  const asked: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/fn/') || path.startsWith('/api/')) asked.push(path);
  });
  await page.waitForTimeout(4_000);
  expect(asked).toEqual([]);
  // And when something does change, it follows: the phone scans the code.
  const id = (await made.json()).id;
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281200000777', pushName: 'Sepi' } })).status()).toBe(200);
  await expect(row.locator('[data-status="connected"]')).toBeVisible();
  expect(asked).toContain('/fn/list_sessions');
});

test('a phone links, stops, starts and unlinks from the Sessions list itself', async ({ page }) => {
  await register(page, 'list-linker');
  const made = await page.request.post('/api/sessions', { data: { name: 'Toko Daftar' } });
  expect(made.status()).toBe(200);
  const id = (await made.json()).id;
  await page.goto('/sessions');
  await hydrated(page);
  const list = page.getByTestId('sessions');
  const row = list.locator('tr', { hasText: 'Toko Daftar' });
  await expect(row.locator('[data-status="qr_ready"]')).toBeVisible();
  // The QR code opens under the row, follows the session's own stream, and pairing by
  // number works there too.
  await row.getByRole('button', { name: 'Link phone' }).click();
  const qr = list.locator('img.qr');
  await expect(qr).toBeVisible();
  const first = await qr.getAttribute('src');
  await expect.poll(async () => qr.getAttribute('src'), { timeout: 10_000 }).not.toBe(first);
  await list.getByLabel('Or link with a phone number').fill('6281234567891');
  await list.getByRole('button', { name: 'Get a code' }).click();
  await expect(list.getByTestId('pair-code')).toHaveText(/^[1-9A-Z]{4}-[1-9A-Z]{4}$/);
  await shot(page, 'sessions-list-linking');
  // Scanned: the row says who it is, and the QR code goes.
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281234567891', pushName: 'HP Kasir' } })).status()).toBe(200);
  await expect(row.locator('[data-status="connected"]')).toBeVisible();
  await expect(row.getByTestId('number')).toHaveText('HP Kasir · +6281234567891');
  await expect(qr).toHaveCount(0);
  // Stopped and started again from the list: no scan in between.
  await row.getByRole('button', { name: 'Stop' }).click();
  await expect(row.locator('[data-status="stopped"]')).toHaveText('stopped');
  await expect(row.getByRole('button', { name: 'Unlink phone' })).toBeHidden();
  const refused = await page.request.post(`/send-message?session=${id}`, { data: { to: '6289900000777', message: 'Halo' } });
  expect(refused.status()).toBe(409);
  await row.getByRole('button', { name: 'Start' }).click();
  await expect(row.locator('[data-status="connected"]')).toBeVisible();
  await expect(row.getByRole('button', { name: 'Stop' })).toBeVisible();
  // Unlinking asks first; dismissed, nothing happens.
  page.once('dialog', (d) => d.dismiss());
  await row.getByRole('button', { name: 'Unlink phone' }).click();
  await page.waitForTimeout(500);
  await expect(row.locator('[data-status="connected"]')).toBeVisible();
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await row.getByRole('button', { name: 'Unlink phone' }).click();
  await expect(row.locator('[data-status="connected"]')).toHaveCount(0);
  expect(asked).toContain('new QR scan');
  await expect(row.getByRole('button', { name: 'Link phone' })).toBeVisible();
});
