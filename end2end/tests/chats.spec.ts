// The Chats page (issue #20, "Chats"): a session's conversations with push names and their
// newest message, a chat as bubbles with ticks, and an answer box that sends once however
// often it is pressed; on a phone one pane at a time.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, shot } from './helpers';

type Sent = { to: string; message: string };

test('chats: list, thread with ticks, one answer per press, phone layout', async ({ page }) => {
  await register(page, 'chat-owner');
  const id = await linkedSession(page, 'Toko Obrolan', '6281234500001');
  const incoming = async (from: string, message: string, pushName: string) => {
    const r = await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from, message, pushName } });
    expect(r.status()).toBe(200);
  };

  await page.goto('/chats');
  await hydrated(page);
  await expect(page.getByText('No chats yet')).toBeVisible();
  await incoming('6289900000001', 'Kopi gayo masih ada?', 'Budi');
  await incoming('6289900000002', 'Pesanan saya sudah dikirim?', 'Siti Aminah');
  // The page refreshes by itself: the newest chat first, named by its push name.
  const chats = page.getByTestId('chats').locator('a');
  await expect(chats).toHaveCount(2);
  await expect(chats.nth(0)).toContainText('Siti Aminah');
  await expect(chats.nth(0)).toContainText('Pesanan saya sudah dikirim?');
  await expect(chats.nth(1)).toContainText('Budi');
  // Each waits for an answer: a count beside the time, spoken in words.
  await expect(chats.nth(0).getByTestId('unanswered')).toHaveText('1');
  await expect(chats.nth(0).getByTestId('unanswered')).toHaveAttribute('aria-label', '1 waiting for an answer');
  await expect(chats.nth(1).getByTestId('unanswered')).toHaveText('1');

  await chats.nth(1).click();
  await expect(page).toHaveURL(new RegExp(`/chats\\?session=${id}&chat=6289900000001$`));
  await hydrated(page);
  await expect(page.locator('.thread-head h2')).toHaveText('Budi · +6289900000001');
  const thread = page.getByTestId('thread');
  await expect(thread.locator('.bubble')).toHaveCount(1);
  await expect(thread.locator('.bubble').first()).toContainText('Kopi gayo masih ada?');

  // A double click sends one message; the box empties and the answer shows as our bubble.
  const box = page.getByPlaceholder('Write a message');
  await box.fill('Masih, kak. Mau berapa?');
  await page.getByTestId('reply').getByRole('button', { name: 'Send' }).dblclick();
  await expect(box).toHaveValue('');
  await expect(thread.locator('.bubble.out')).toHaveCount(1);
  await expect(thread.locator('.bubble.out')).toContainText('Masih, kak. Mau berapa?');
  // Enter sends too.
  await box.fill('Ada juga arabika');
  await box.press('Enter');
  await expect(thread.locator('.bubble.out')).toHaveCount(2);
  const sent: Sent[] = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent.map((m) => [m.to, m.message])).toEqual([
    ['6289900000001', 'Masih, kak. Mau berapa?'],
    ['6289900000001', 'Ada juga arabika'],
  ]);
  // The chat list follows: Budi's chat is now the newest, with our answer as its last line.
  await expect(chats.nth(0)).toContainText('You: Ada juga arabika');
  // Answered: Budi's count goes; Siti still waits.
  await expect(chats.nth(0).getByTestId('unanswered')).toBeHidden();
  await expect(chats.nth(1).getByTestId('unanswered')).toHaveText('1');

  // Ticks follow receipts: read shows in the bubble without a reload.
  const log = await (await page.request.get(`/api/messages?session=${id}&chat=6289900000001&direction=out`)).json();
  const ids = log.map((m: { id: string }) => m.id);
  expect((await page.request.post(`/simulator/sessions/${id}/receipt`, { data: { messageIds: ids, status: 'read' } })).status()).toBe(200);
  await expect(thread.locator('.bubble.out .badge.read')).toHaveCount(2);
  await shot(page, 'chats-1280');

  // The Messages log names who wrote, too.
  await page.goto('/messages');
  await hydrated(page);
  await expect(page.getByTestId('messages').locator('tr', { hasText: 'Kopi gayo' }).locator('.push-name')).toHaveText('Budi');
  await page.goto(`/chats?session=${id}&chat=6289900000001`);
  await hydrated(page);

  // On a phone: the open chat fills the screen, with a way back to the list.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.locator('.chat-list')).toBeHidden();
  await expect(thread).toBeVisible();
  await shot(page, 'chats-390-thread');
  await page.getByRole('link', { name: 'Chats' }).filter({ hasText: '←' }).click();
  await hydrated(page);
  await expect(page.locator('.chat-list')).toBeVisible();
  await expect(page.locator('section.thread')).toBeHidden();
  await shot(page, 'chats-390-list');
});

test('chats: older chats are a page of their own, by link', async ({ page }) => {
  await register(page, 'chat-pager');
  const id = await linkedSession(page, 'Toko Ramai', '6281234500051');
  // 51 customers, the first one the longest ago.
  for (let i = 0; i < 51; i++) {
    const from = `62899100${String(i).padStart(5, '0')}`;
    const r = await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from, message: `Pesan ${i}` } });
    expect(r.status()).toBe(200);
  }
  await page.goto(`/chats?session=${id}`);
  await hydrated(page);
  const chats = page.getByTestId('chats').locator('a');
  await expect(chats).toHaveCount(50);
  await expect(chats.first()).toContainText('Pesan 50');
  await expect(page.getByRole('link', { name: 'First page' })).toBeHidden();
  await page.getByTestId('older-chats').click();
  await expect(page).toHaveURL(new RegExp(`before=\\d+`));
  await expect(chats).toHaveCount(1);
  await expect(chats.first()).toContainText('Pesan 0');
  await expect(page.getByTestId('older-chats')).toBeHidden();
  // Opening it keeps the page; the first page is one link away.
  await chats.first().click();
  await expect(page).toHaveURL(/chat=6289910000000&before=\d+$/);
  await expect(page.getByTestId('thread')).toContainText('Pesan 0');
  await expect(chats).toHaveCount(1);
  await page.getByRole('link', { name: 'First page' }).click();
  await expect(chats).toHaveCount(50);
  // A group chat goes by the group's name.
  const made = await page.request.post(`/simulator/sessions/${id}/groups`, { data: { subject: 'Reseller Gayo', participants: ['6289910000001'] } });
  expect(made.status()).toBe(200);
  const group = (await made.json()).id;
  expect((await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from: '6289910000001', chat: group, message: 'Stok minggu ini?' } })).status()).toBe(200);
  await expect(chats.first()).toContainText('Reseller Gayo');
  await expect(chats.first()).toContainText('Stok minggu ini?');
});

test('chats: a message\'s details link to what its webhook was sent, as signed', async ({ page }) => {
  await register(page, 'chat-hook');
  const id = await linkedSession(page, 'Toko Kait', '6281234500061');
  expect((await page.request.put(`/api/sessions/${id}/webhook`, { data: { url: 'http://127.0.0.1:9/kait', secret: 'rahasia' } })).status()).toBe(200);
  expect((await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from: '6289920000001', message: 'Ada promo?' } })).status()).toBe(200);
  await page.goto(`/chats?session=${id}&chat=6289920000001`);
  await hydrated(page);
  await page.getByTestId('thread').locator('.bubble summary').first().click();
  const link = page.getByTestId('webhook-events');
  await expect(link).toBeVisible();
  await expect(link).toHaveText('What the webhook was sent (JSON)');
  // The API's answer, with the signed-in cookie, as the new tab shows it.
  const answer = await page.request.get((await link.getAttribute('href'))!);
  expect(answer.status()).toBe(200);
  const events = await answer.json();
  expect(events.map((e: { event: string }) => e.event)).toEqual(['message.in']);
  expect(JSON.parse(events[0].body).data.message).toBe('Ada promo?');
});
