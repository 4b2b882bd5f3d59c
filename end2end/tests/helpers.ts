import { expect, type Page } from '@playwright/test';

export const PASSWORD = 's3cret-password';

/**
 * Waits until the WebAssembly has hydrated the server-rendered page and, after a click that
 * navigated, until the router has shown the next page: pages load their code on demand, so the
 * address changes while the previous page is still on screen (`<body aria-busy="true">`).
 */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]:not([aria-busy="true"])')).toBeAttached();
}

/** Saves a screenshot as a test artifact under test-results/screens. */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

/**
 * Registers `username` (`/register`, button "Create account") or signs it in (`/login`); the
 * labels are the form's in the page's language.
 */
export async function register(
  page: Page,
  username: string,
  at = '/register',
  button = 'Create account',
  usernameLabel = 'Username',
  passwordLabel = 'Password',
) {
  await page.goto(at);
  await hydrated(page);
  await page.getByLabel(usernameLabel).fill(username);
  await page.getByLabel(passwordLabel).fill(PASSWORD);
  await page.getByRole('button', { name: button }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await hydrated(page);
}

/** Signs in an account made earlier (the admin: 00-foundation). */
export const signIn = (page: Page, username: string) => register(page, username, '/login', 'Sign in');

/** A session of the signed-in person, linked on the simulator as `phone`; answers its id. */
export async function linkedSession(page: Page, name: string, phone: string): Promise<string> {
  const created = await page.request.post('/api/sessions', { data: { name } });
  const { id } = await created.json();
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('qr_ready');
  expect((await page.request.post(`/simulator/sessions/${id}/scan`, { data: { phoneNumber: phone } })).status()).toBe(200);
  await expect.poll(async () => (await (await page.request.get(`/api/sessions/${id}`)).json()).status).toBe('connected');
  return id;
}

/**
 * Signs out from the top bar: on a phone the links and the account sit behind "Menu"; the
 * account's actions open under its name.
 */
export async function signOut(page: Page) {
  const menu = page.locator('label.menu-button');
  if (await menu.isVisible()) await menu.click();
  await page.getByTestId('username').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
}
