// The Send page: a text and a three-button message from the dashboard, checked live by the
// same rules as the API, with the answer and the equivalent curl command.
import { test, expect } from '@playwright/test';
import { hydrated, linkedSession, register, shot } from './helpers';

test('a text and a 3-button message from the Send page', async ({ page }) => {
  await register(page, 'sender');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Kirim' } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111111' } })).status()).toBe(200);

  await page.goto('/send');
  await hydrated(page);
  await expect(page.getByLabel(/Toko Kirim/)).toBeChecked();
  await page.getByLabel('To', { exact: true }).fill('6282222222222');
  await page.getByLabel('Message').fill('Halo dari dashboard');
  // A double click sends once — even two submits in the same instant, before the button
  // can turn disabled.
  await page.locator('#send-form').evaluate((f: HTMLFormElement) => { f.requestSubmit(); f.requestSubmit(); });
  await expect(page.getByTestId('send-answer')).toContainText('"success": true');
  await expect(page.getByTestId('send-curl')).toContainText('/send-message?session=');

  await page.getByRole('radio', { name: 'Buttons' }).check();
  await page.getByLabel('Message').fill('Lanjutkan pesanan?');
  await page.getByLabel('Button 1 text').fill('Teks yang terlalu panjang');
  await page.getByLabel('Button 1 id').fill('yes');
  await expect(page.getByTestId('send-check')).toContainText('buttons[0].text');
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeDisabled();
  await page.getByLabel('Button 1 text').fill('Ya, lanjut');
  await page.getByLabel('Button 2 text').fill('Batalkan');
  await page.getByLabel('Button 2 id').fill('no');
  await page.getByLabel('Button 3 text').fill('Nanti');
  await page.getByLabel('Button 3 id').fill('later');
  await expect(page.getByTestId('send-preview')).toContainText('3. Nanti');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('send-answer')).toContainText('"type": "button"');
  await expect(page.getByTestId('send-curl')).toContainText('/send-interactive?session=');
  await shot(page, '11-send');

  const sent = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent.map((m: { type: string }) => m.type)).toEqual(['text', 'interactive']);
  expect(sent[1].interactive.body.buttons.map((b: { id: string }) => b.id)).toEqual(['yes', 'no', 'later']);
});

// A 1×1 PNG, as a shop owner's product photo would be.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//8/AwAI/AL+p5qgoAAAAABJRU5ErkJggg==',
  'base64',
);

test('a photo dropped on the Send page is previewed, arrives and shows in the Messages page', async ({ page }) => {
  await register(page, 'photographer');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Foto' } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111112' } })).status()).toBe(200);

  await page.goto('/send');
  await hydrated(page);
  await page.getByLabel('To', { exact: true }).fill('6282222222223');
  await page.getByRole('radio', { name: 'File' }).check();
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeDisabled();
  // Dropped on the box, as from a file manager: it goes into the input, with a preview.
  const dropped = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 'kopi.png', { type: 'image/png' }));
    return transfer;
  }, [...PNG]);
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dropped });
  await expect.poll(() => page.getByLabel('File to send').evaluate((i: HTMLInputElement) => i.files?.length)).toBe(1);
  const preview = page.getByTestId('file-preview');
  await expect(preview).toBeVisible();
  await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  await page.getByLabel('Message').fill('Kopi Gayo 250 g');
  await expect(page.getByTestId('send-curl')).toContainText("-F 'file=@kopi.png'");
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('send-answer')).toContainText('"type": "image"');

  const sent = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent[0].type).toBe('image');
  expect(sent[0].message).toBe('Kopi Gayo 250 g');
  expect(sent[0].media.filename).toBe('kopi.png');

  await page.goto('/messages');
  await hydrated(page);
  const thumb = page.getByTestId('message-media').locator('img');
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  await shot(page, '12-messages-media');
});

test('a poll, a place and a contact card from the Send page; reactions and ticks in the Messages page', async ({ page }) => {
  await register(page, 'pollster');
  const created = await page.request.post('/api/sessions', { data: { name: 'Toko Polling' } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: '6281111111113' } })).status()).toBe(200);

  await page.goto('/send');
  await hydrated(page);
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await page.getByLabel('To', { exact: true }).fill('6282222222224');
  await page.getByRole('radio', { name: 'Poll', exact: true }).check();
  await page.getByLabel('Question').fill('Kapan diantar?');
  await page.getByLabel(/Options, one per line/).fill('Pagi\nPagi');
  // The same option twice: the page says so before anything is sent.
  await expect(page.getByTestId('send-check')).toContainText('2 to 12 different options');
  await expect(send).toBeDisabled();
  await page.getByLabel(/Options, one per line/).fill('Pagi\nSore');
  await page.getByLabel('Voters may choose several options').check();
  await expect(page.getByTestId('send-curl')).toContainText('"multipleAnswers":true');
  await send.click();
  await expect(page.getByTestId('send-answer')).toContainText('"type": "poll"');

  // A place: a coordinate written with a comma is refused before anything is sent.
  await page.getByRole('radio', { name: 'Place', exact: true }).check();
  await expect(page.getByLabel('Message')).toBeHidden();
  await page.getByLabel('Latitude').fill('-6,1825');
  await page.getByLabel('Longitude').fill('106.8284');
  await expect(page.getByTestId('send-check')).toContainText('latitude from -90 to 90');
  await expect(send).toBeDisabled();
  await page.getByLabel('Latitude').fill('-6.1825');
  await page.getByLabel('Place name (optional)').fill('Toko Kopi Gayo');
  await page.getByLabel('Address (optional)').fill('Jl. Sabang 12');
  await expect(page.getByTestId('send-curl')).toContainText('/send-location');
  await send.click();
  await expect(page.getByTestId('send-answer')).toContainText('"type": "location"');

  // Contact cards, one per line; a line without a number is refused.
  await page.getByRole('radio', { name: 'Contact', exact: true }).check();
  await page.getByLabel(/Contacts, one per line/).fill('Budi Santoso | 6281234567890\nSiti');
  await expect(page.getByTestId('send-check')).toContainText('Each line needs a name and a number');
  await expect(send).toBeDisabled();
  await page.getByLabel(/Contacts, one per line/).fill('Budi Santoso | 6281234567890\nSiti | 6281234567891');
  await send.click();
  await expect(page.getByTestId('send-answer')).toContainText('"type": "contact"');

  const sent = await (await page.request.get(`/simulator/sessions/${id}/sent`)).json();
  expect(sent.map((m: { type: string }) => m.type)).toEqual(['poll', 'location', 'contact']);
  expect(sent[0].pollOptions).toEqual(['Pagi', 'Sore']);
  expect(sent[0].multipleAnswers).toBe(true);
  expect(sent[1].location).toEqual({ latitude: -6.1825, longitude: 106.8284, name: 'Toko Kopi Gayo', address: 'Jl. Sabang 12' });
  expect(sent[2].contacts.map((c: { name: string }) => c.name)).toEqual(['Budi Santoso', 'Siti']);

  // The contact reacts to the poll and reads the place.
  const react = await page.request.post(`/simulator/sessions/${id}/reaction`, {
    data: { from: '6282222222224', messageId: sent[0].messageId, emoji: '👍' },
  });
  expect(react.status()).toBe(200);
  const receipt = await page.request.post(`/simulator/sessions/${id}/receipt`, {
    data: { messageIds: [sent[1].messageId], status: 'read' },
  });
  expect(receipt.status()).toBe(200);

  await page.goto('/messages');
  await hydrated(page);
  const table = page.getByTestId('messages');
  await expect(table).toContainText('📊 Pagi / Sore');
  await expect(table.getByRole('link', { name: /Jl. Sabang 12/ })).toHaveAttribute('href', /mlat=-6.1825&mlon=106.8284/);
  await expect(table).toContainText('👤 Budi Santoso +6281234567890');
  const poll = table.locator(`tr[data-id="${sent[0].messageId}"]`).filter({ hasText: 'Pagi / Sore' });
  await expect(poll.getByTestId('reactions')).toHaveText('👍');
  await expect(poll).toContainText('✓ sent');
  const place = table.locator(`tr[data-id="${sent[1].messageId}"]`);
  await expect(place).toContainText('✓✓ read');
  await shot(page, '13-messages-rich');
});

test('an error about one field shows at that field, in the reader\'s words, and goes once fixed', async ({ page }) => {
  await register(page, 'field-errors');
  await linkedSession(page, 'Toko Teliti', '6281111111171');
  await page.goto('/send');
  await hydrated(page);
  const to = page.locator('input[name="to"]');
  await to.fill('12');
  await page.getByLabel('Message').fill('Halo');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  // Under the number, not under the form: the code on hover, the input marked.
  const error = page.locator('label:has(input[name="to"]) [data-field="to"]');
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('title', 'INVALID_PHONE');
  await expect(to).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#send-form ~ .error')).toHaveCount(0);
  await shot(page, 'send-field-error');
  await to.fill('6282222222271');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('send-answer')).toContainText('"success": true');
  await expect(error).toHaveCount(0);
  await expect(to).toHaveAttribute('aria-invalid', 'false');
});
