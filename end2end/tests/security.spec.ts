// Login CSRF: a page on another site posts a form to Kabar's sign-in server function, hoping
// to sign the visitor into the attacker's account (whose linked WhatsApp the visitor would
// then be tricked into scanning). The browser sends it; Kabar refuses it and sets no cookie.
import { test, expect } from '@playwright/test';
import { PASSWORD } from './helpers';

test('a cross-site form cannot sign a visitor in', async ({ browser, baseURL }) => {
  // The attacker's own account.
  const attacker = await browser.newContext();
  const made = await attacker.request.post('/api/auth/register', {
    data: { username: 'mallory', password: PASSWORD },
  });
  expect(made.status()).toBe(200);
  await attacker.close();

  const victim = await browser.newContext();
  const page = await victim.newPage();
  // Another site on this machine (no public address, so no private-network rules get in the
  // way): localhost is another origin and another site than 127.0.0.1.
  const evil = baseURL!.replace('127.0.0.1', 'localhost') + '/evil';
  // The classic JSON-through-text/plain trick, and a plain urlencoded form.
  const forms = [
    `<form id="f" method="post" enctype="text/plain" action="${baseURL}/fn/login">
       <input name='{"username":"mallory","password":"${PASSWORD}","x":"' value='"}'></form>`,
    `<form id="f" method="post" action="${baseURL}/fn/login">
       <input name="username" value="mallory"><input name="password" value="${PASSWORD}"></form>`,
  ];
  for (const form of forms) {
    await page.route(evil, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><body>${form}</body>` }),
    );
    await page.goto(evil);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/fn/login')),
      page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
    ]);
    expect([403, 415]).toContain(answer.status());
    await page.unroute(evil);
  }
  const cookies = await victim.cookies();
  expect(cookies.find((c) => c.name === 'auth-token')).toBeUndefined();
  // And the visitor is still signed out on Kabar itself.
  const me = await victim.request.get('/api/me');
  expect(me.status()).toBe(401);
  await victim.close();
});
