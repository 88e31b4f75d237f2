import { defineConfig, devices } from '@playwright/test';

// keyward's browser tests. Run them with scripts/browser-test, which starts a
// demo server and sets KEYWARD_URL and KEYWARD_DEMO_ACCOUNTS.
//
// Playwright never downloads a browser here: it drives Debian's
// /usr/bin/chromium (scripts/lib/browser.sh installs it), and npm runs with
// PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1.

const baseURL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  testDir: './specs',
  // The page walk (walk-*.spec.ts, dark-scheme.spec.ts) looks at layout,
  // accessibility and screenshots, which the database does not change:
  // scripts/test runs it once, on SQLite, and sets KEYWARD_BROWSER_SKIP_WALK=1
  // for the run on PostgreSQL, where every other spec runs again.
  testIgnore: process.env.KEYWARD_BROWSER_SKIP_WALK === '1' ? ['**/walk-*.spec.ts', '**/dark-scheme.spec.ts'] : [],
  // scripts/test runs SQLite and PostgreSQL side by side, each with its own.
  outputDir: process.env.KEYWARD_BROWSER_OUTPUT ? `./${process.env.KEYWARD_BROWSER_OUTPUT}` : './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    video: 'off',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        headless: true,
        launchOptions: {
          executablePath: process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
