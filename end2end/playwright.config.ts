// Browser tests against the real `kabar` binary on the simulator engine, with a fresh data dir.
// Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download cannot work here.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.KABAR_E2E_PORT ?? 3917);
const dataDir = process.env.KABAR_E2E_DATA ?? '/tmp/kabar-e2e';
const binary = process.env.KABAR_BIN ?? '../target/debug/kabar';

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `${binary} --addr 127.0.0.1:${port} --data-dir ${dataDir} --engine simulator --simulator-first-qr-ms 1500 --simulator-next-qr-ms 1500 --allow-private-webhooks --webhook-retry-schedule 1s,2s,4s --registrations-per-hour 0`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
