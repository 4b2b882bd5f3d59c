// Groups from the dashboard (contract §12): a session's page lists the groups its number is
// in, with their members and invite link; "Send to this group" opens the Send page addressed
// to the group, and the text reaches the group on the simulator. A member's message shows in
// the Messages page with its author beside the group.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, shot } from './helpers';

test('a session lists its groups and sends to one from the dashboard', async ({ page }) => {
  await register(page, 'group-owner');
  const id = await linkedSession(page, 'Toko Grup', '6281111111119');
  // A group the session made (it is the creator, so it may get the invite link).
  const made = await page.request.post(`/api/sessions/${id}/groups`, {
    data: { subject: 'Pesanan Grosir', participants: ['6282222222211', '6282222222212'] },
  });
  expect(made.status()).toBe(200);
  const gid: string = (await made.json()).id;

  await page.goto(`/sessions/${id}`);
  await hydrated(page);
  const groups = page.getByTestId('groups');
  await expect(groups).toContainText('Pesanan Grosir');
  await expect(groups).toContainText(gid);
  await expect(groups).toContainText('+6282222222211 member');
  await expect(groups).toContainText('superadmin');
  // The invite link opens the API's answer (the link) in a new tab.
  const invite = await groups.getByRole('link', { name: 'Invite link' }).getAttribute('href');
  const link = await (await page.request.get(invite!)).json();
  expect(link.link).toMatch(/^https:\/\/chat\.whatsapp\.com\//);
  await shot(page, '14-session-groups');

  // The group's name links to the Send page, addressed to it.
  await groups.getByRole('link', { name: 'Pesanan Grosir' }).click();
  await expect(page).toHaveURL(/\/send\?session=/);
  await hydrated(page);
  await expect(page.getByLabel('To', { exact: true })).toHaveValue(gid);
  await page.getByLabel('Message').fill('Stok beras datang besok');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('send-answer')).toContainText(gid);
  const sent = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent.map((m: { to: string; message: string }) => [m.to, m.message])).toEqual([[gid, 'Stok beras datang besok']]);

  // A member answers in the group: the Messages page shows who, beside the group.
  const incoming = await page.request.post(`/simulator/sessions/${id}/incoming`, {
    data: { chat: gid, from: '6282222222212', message: 'Saya pesan 2 karung' },
  });
  expect(incoming.status()).toBe(200);
  await page.goto('/messages');
  await hydrated(page);
  const row = page.getByTestId('messages').locator('tr', { hasText: 'Saya pesan 2 karung' });
  await expect(row).toContainText(gid);
  await expect(row).toContainText('6282222222212');
});
