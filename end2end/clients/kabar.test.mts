// A TypeScript client generated from Kabar's /openapi.json (openapi-typescript + openapi-fetch),
// used as an integrator would: sign up, make an API key, link a simulator session, send a
// message and read it back from the message log. `tsc` type-checks this file against the
// generated types first, so a renamed field or path fails the build, not just the run.
// Run by scripts/clients-test.sh: KABAR_URL is a fresh `kabar --engine simulator`.
import createClient from 'openapi-fetch';
import type { paths } from './generated/kabar.js';

const baseUrl = process.env.KABAR_URL;
if (!baseUrl) throw new Error('KABAR_URL is not set');

function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`client test: ${what}`);
}

async function main() {
  const anonymous = createClient<paths>({ baseUrl });

  const reg = await anonymous.POST('/api/auth/register', {
    body: { username: 'ts-admin', password: 'a-long-password' },
  });
  check(reg.data?.role === 'admin', `register answered ${JSON.stringify(reg.error)}`);

  const login = await anonymous.POST('/api/auth/login', {
    body: { username: 'ts-admin', password: 'a-long-password' },
  });
  check(login.data, `login answered ${JSON.stringify(login.error)}`);
  const browser = createClient<paths>({
    baseUrl,
    headers: { Cookie: `auth-token=${login.data.token}` },
  });

  const key = await browser.POST('/api/keys', { body: { name: 'ts-client' } });
  check(key.data && key.data.key.startsWith('kbr_'), `key answered ${JSON.stringify(key.error)}`);
  const api = createClient<paths>({ baseUrl, headers: { 'X-API-KEY': key.data.key } });

  const created = await api.POST('/api/sessions', { body: { name: 'Toko TS' } });
  check(created.data, `session answered ${JSON.stringify(created.error)}`);
  const session = created.data.id;

  const scan = await api.POST('/simulator/sessions/{id}/scan', {
    params: { path: { id: session } },
    body: { phoneNumber: '6281200000001', pushName: 'Toko TS' },
  });
  check(!scan.error, `scan answered ${JSON.stringify(scan.error)}`);
  for (let i = 0; ; i++) {
    const status = await api.GET('/status', { params: { query: { session } } });
    if (status.data?.isConnected) break;
    check(i < 100, `the session did not connect: ${JSON.stringify(status.data ?? status.error)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const sent = await api.POST('/send-message', {
    params: { query: { session } },
    body: { to: '6289876543210', message: 'Halo dari TypeScript!' },
  });
  check(sent.data && sent.data.success, `send answered ${JSON.stringify(sent.error)}`);

  // A typed error: the contract's code comes back in `error`.
  const bad = await api.POST('/send-message', {
    params: { query: { session } },
    body: { to: 'not a number', message: 'x' },
  });
  check(bad.response.status === 400 && bad.error?.error === 'INVALID_PHONE',
    `a bad number answered ${bad.response.status} ${JSON.stringify(bad.error)}`);

  const log = await api.GET('/api/messages', {
    params: { query: { session, direction: 'out', limit: 10 } },
  });
  check(log.data, `messages answered ${JSON.stringify(log.error)}`);
  const messageId = sent.data.messageId;
  const mine = log.data.find((m) => m.id === messageId);
  check(mine?.message === 'Halo dari TypeScript!', `the log holds ${JSON.stringify(log.data)}`);
  console.log(`typescript client: sent ${sent.data.messageId} and read it back`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
