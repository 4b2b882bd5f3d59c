// Auto-reply in the browser: add a rule, try a message in the test box, switch it on, see the
// session answer a message a contact sends (through the simulator), and find both messages on
// the Messages page, which picks up a new one by itself.
import { test, expect } from '@playwright/test';
import { hydrated, register, shot } from './helpers';

// A small PDF (the server tells a document by its first bytes).
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

test('a rule made in the dashboard answers an incoming message', async ({ page }) => {
  await register(page, 'rules-owner');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Rules' } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111111' } })).status()).toBe(200);

  await page.goto('/auto-reply');
  await hydrated(page);
  await expect(page.getByText('No rules yet. Add one above.')).toBeVisible();
  const add = page.getByTestId('add-rule');
  await add.getByLabel('Keyword').fill('harga');
  await add.getByLabel('Match').selectOption('word');
  await add.getByLabel('Reply', { exact: true }).fill('Harga mulai Rp 10.000');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByTestId('rules')).toContainText('Harga mulai Rp 10.000');

  await page.getByLabel('Try a message').fill('Berapa HARGA kopi?');
  await expect(page.getByTestId('probe-result')).toHaveText('Rule 1 answers: Harga mulai Rp 10.000');
  await page.getByLabel('Try a message').fill('hargai');
  await expect(page.getByTestId('probe-result')).toHaveText('No rule answers this message.');

  await page.getByLabel('Answer incoming messages with the rules below, on all my sessions').check();
  await expect.poll(async () => (await (await page.request.get('/api/auto-reply')).json()).enabled).toBe(true);
  await shot(page, '10-auto-reply');

  const sent = await page.request.post(`/simulator/sessions/${id}/incoming`, {
    data: { from: '6282222222222', message: 'harga kopi?' },
  });
  const { messageId } = await sent.json();
  await expect
    .poll(async () => (await (await page.request.get(`/simulator/sessions/${id}/sent`)).json()).length)
    .toBe(1);
  const [reply] = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(reply.message).toBe('Harga mulai Rp 10.000');
  expect(reply.quotedMessageId).toBe(messageId);
  expect(reply.to).toBe('6282222222222');

  // A keyword can open a menu: the /send-interactive form as JSON, checked before it is sent.
  const menu = add.getByLabel(/^Menu \(optional\)/);
  await add.getByLabel('Keyword').fill('menu');
  await add.getByLabel('Match').selectOption('exact');
  await add.getByLabel('Reply', { exact: true }).fill('Mau pesan apa?');
  await menu.fill('{"type":"button","buttons":[{"id":"kopi"');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByRole('alert')).toContainText('Menu:');
  await menu.fill('{"type":"button","buttons":[{"id":"kopi","text":"Kopi"},{"id":"teh","text":"Teh"}]}');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByTestId('rules')).toContainText('2 buttons');

  // Inline edit: the first rule's reply changes in place, and the server has it.
  const rules = page.getByTestId('rules');
  await rules.getByRole('button', { name: 'Edit' }).first().click();
  const edit = rules.getByTestId('edit-rule').first();
  await expect(edit).toBeVisible();
  // A keyword of spaces is refused beside it; the form stays open with what was typed.
  const editKeyword = edit.locator('input[name="editKeyword"]');
  await expect(editKeyword).toHaveAttribute('maxlength', '200');
  await editKeyword.fill('   ');
  await edit.getByLabel('Reply', { exact: true }).fill('Harga mulai Rp 12.000');
  await edit.getByRole('button', { name: 'Save' }).click();
  const keywordError = edit.locator('label:has(input[name="editKeyword"]) [data-field="keyword"]');
  await expect(keywordError).toContainText('must not be empty');
  await expect(edit).toBeVisible();
  await expect(edit.locator('input[name="editReply"]')).toHaveValue('Harga mulai Rp 12.000');
  await editKeyword.fill('harga');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toBeHidden();
  // A change saved in place says so, then the note goes away by itself.
  const saved = page.getByTestId('saved').filter({ visible: true });
  await expect(saved).toHaveText('Saved');
  await expect(saved).toHaveCount(0, { timeout: 10_000 });
  await expect(rules).toContainText('Harga mulai Rp 12.000');
  const stored = await (await page.request.get('/api/auto-reply/rules')).json();
  expect(stored[0].reply).toBe('Harga mulai Rp 12.000');

  // The Messages page shows the question and the rule's answer, newest first.
  await page.goto('/messages');
  await hydrated(page);
  const log = page.getByTestId('messages');
  const answer = log.locator('tr[data-direction="out"]').first();
  await expect(answer).toContainText('Harga mulai Rp 10.000');
  await expect(answer).toContainText('auto-reply');
  await expect(log.locator(`tr[data-id="${messageId}"]`)).toContainText('harga kopi?');
  await page.getByLabel('Direction').selectOption('in');
  await expect(log.locator('tr[data-direction="out"]')).toHaveCount(0);
  await expect(log.locator('tr[data-direction="in"]')).toHaveCount(1);
  // A new message appears without reloading.
  await page.request.post(`/simulator/sessions/${id}/incoming`, {
    data: { from: '6283333333333', message: 'masih buka?' },
  });
  await expect(log).toContainText('masih buka?');
  await shot(page, '12-messages');
});

test('rules that answer with a place or a file are made and edited in the dashboard', async ({ page }) => {
  await register(page, 'place-owner');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Tempat' } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111114' } })).status()).toBe(200);

  await page.goto('/auto-reply');
  await hydrated(page);
  const add = page.getByTestId('add-rule');
  const rules = page.getByTestId('rules');
  // A place: no reply text; a coordinate written with a comma is refused before it is sent.
  await add.getByLabel('Keyword').fill('lokasi');
  await add.getByLabel('Match').selectOption('exact');
  await add.getByRole('radio', { name: 'Place', exact: true }).check();
  await expect(add.getByLabel('Reply', { exact: true })).toBeHidden();
  await add.getByLabel('Latitude').fill('-6,2');
  await add.getByLabel('Longitude').fill('106.816666');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByRole('alert')).toContainText('latitude from -90 to 90');
  expect(await (await page.request.get('/api/auto-reply/rules')).json()).toHaveLength(0);
  await add.getByLabel('Latitude').fill('-6.2');
  await add.getByLabel('Place name (optional)').fill('Toko Kopi Gayo');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(rules).toContainText('📍 Toko Kopi Gayo');
  const place = { latitude: -6.2, longitude: 106.816666, name: 'Toko Kopi Gayo' };
  expect((await (await page.request.get('/api/auto-reply/rules')).json())[0].location).toEqual(place);

  // Its keyword is edited in place: the empty reply must not stop the form.
  await rules.getByRole('button', { name: 'Edit' }).first().click();
  const edit = rules.getByTestId('edit-rule').first();
  await edit.getByLabel('Keyword').fill('alamat');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toBeHidden();
  // A change saved in place says so, then the note goes away by itself.
  const saved = page.getByTestId('saved').filter({ visible: true });
  await expect(saved).toHaveText('Saved');
  await expect(saved).toHaveCount(0, { timeout: 10_000 });
  await expect(rules).toContainText('alamat');
  const [stored] = await (await page.request.get('/api/auto-reply/rules')).json();
  expect(stored.keyword).toBe('alamat');
  expect(stored.location).toEqual(place);

  // A file chosen on the computer, with the reply as its caption, answers a message.
  await add.getByLabel('Keyword').fill('katalog');
  await add.getByRole('radio', { name: 'File', exact: true }).check();
  await add.getByLabel('Reply', { exact: true }).fill('Katalog kami');
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByRole('alert')).toContainText('Choose a file to send.');
  await add.getByLabel('File to send').setInputFiles({ name: 'katalog.pdf', mimeType: 'application/pdf', buffer: PDF });
  await add.getByRole('button', { name: 'Add rule' }).click();
  await expect(rules).toContainText('📎 katalog.pdf Katalog kami');
  await page.getByLabel('Answer incoming messages with the rules below, on all my sessions').check();
  await expect.poll(async () => (await (await page.request.get('/api/auto-reply')).json()).enabled).toBe(true);
  await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from: '6282222222225', message: 'katalog' } });
  // Another contact: the loop guard holds back a second answer to one chat within seconds.
  await page.request.post(`/simulator/sessions/${id}/incoming`, { data: { from: '6282222222226', message: 'alamat' } });
  await expect
    .poll(async () => (await (await page.request.get(`/simulator/sessions/${id}/sent`)).json()).length)
    .toBe(2);
  const [file, where] = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(file.type).toBe('document');
  expect(file.message).toBe('Katalog kami');
  expect(file.media.filename).toBe('katalog.pdf');
  expect(Buffer.from(await (await page.request.get(file.media.url)).body())).toEqual(PDF);
  expect(where.location).toEqual(place);

  // A text rule still needs its reply: the server says so, and nothing is added.
  await add.getByRole('radio', { name: 'Text or menu' }).check();
  await add.getByLabel('Keyword').fill('harga');
  await add.getByLabel('Reply', { exact: true }).fill('');
  await add.getByRole('button', { name: 'Add rule' }).click();
  // Said at the reply's input, not under the form.
  await expect(add.locator('label:has(input[name="reply"]) [data-field="reply"]')).toContainText('must not be empty');
  await expect(add.locator('input[name="reply"]')).toHaveAttribute('aria-invalid', 'true');
  expect(await (await page.request.get('/api/auto-reply/rules')).json()).toHaveLength(2);
});
