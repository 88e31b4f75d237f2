import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, screenshot, signIn } from '../lib/keyward';

// Account Settings > Sessions (SPEC.md §8, R-ACC-4):
//   /account             link "Sessions" beside "Password"
//   /account/sessions    heading "Sessions", a table of the live sessions
//                        (device "Chrome on Linux", address, signed in, last
//                        seen), "This device" on the one in use, a "Sign out"
//                        button on each other row, and the link "Sign out other sessions"
//                        -> its confirm page (heading "Sign out N other sessions?", button
//                        "Sign out other sessions") -> role=status saying what happened
//
// The suite shares one demo server and runs one spec at a time: each test
// first ends demo.parent's sessions left by earlier tests.

const CHROME_ON_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** Two browsers of their own (cookies apart), told apart by their User-Agent. */
async function twoBrowsers(browser: Browser): Promise<[BrowserContext, BrowserContext]> {
  return [
    await browser.newContext({ userAgent: CHROME_ON_LINUX }),
    await browser.newContext({ userAgent: FIREFOX_ON_WINDOWS }),
  ];
}

/** Opens Sessions from the menu, through Account Settings. */
async function openSessionsFromMenu(page: Page): Promise<void> {
  await fromMenu(page, 'Account Settings');
  await expect(page).toHaveURL(/\/account$/);
  await page.getByRole('link', { name: 'Sessions', exact: true }).click();
  await expect(page).toHaveURL(/\/account\/sessions$/);
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
}

/** Signs in on `page` and ends every other session of the account. */
async function signInAlone(page: Page, username: string, password: string): Promise<void> {
  await signIn(page, username, password);
  await page.goto('/account/sessions');
  const others = page.getByRole('link', { name: 'Sign out other sessions', exact: true });
  if ((await others.count()) > 0) {
    await others.click();
    await page.getByRole('button', { name: 'Sign out other sessions', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('signed out');
  }
  await expect(page.locator('table.sessions tbody tr')).toHaveCount(1);
}

test.describe('Account Settings sessions', () => {
  test('two browsers: "This device" on one; Sign out other sessions signs the other out', async ({ browser }) => {
    const parent = demoAccount('demo.parent');
    const [a, b] = await twoBrowsers(browser);
    try {
      const pageA = await a.newPage();
      const pageB = await b.newPage();
      await signInAlone(pageA, parent.username, parent.password);
      await signIn(pageB, parent.username, parent.password);

      await openSessionsFromMenu(pageA);
      const rows = pageA.locator('table.sessions tbody tr');
      await expect(rows).toHaveCount(2);
      const here = rows.filter({ hasText: 'This device' });
      await expect(here).toHaveCount(1);
      await expect(here.getByRole('rowheader')).toContainText('Chrome on Linux');
      await expect(here.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
      const there = rows.filter({ hasNotText: 'This device' });
      await expect(there.getByRole('rowheader')).toHaveText('Firefox on Windows');
      await expect(there.locator('time').first()).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      await expect(there).toContainText('just now');
      // Each Sign out names its session through aria-describedby.
      await expect(there.getByRole('button', { name: 'Sign out', exact: true })).toHaveAccessibleDescription(
        'Firefox on Windows',
      );
      await expectNoSeriousA11yViolations(pageA, 'Sessions');
      await screenshot(pageA, 'sessions-1-two-sessions', test.info());

      // From B, B is "This device".
      await pageB.goto('/account/sessions');
      await expect(pageB.locator('table.sessions tbody tr', { hasText: 'This device' }).getByRole('rowheader')).toContainText(
        'Firefox on Windows',
      );

      // Its confirm page (issue 15) names the session it will end.
      await pageA.getByRole('link', { name: 'Sign out other sessions', exact: true }).click();
      await expect(pageA.getByRole('heading', { level: 1 })).toHaveText('Sign out 1 other session?');
      await expect(pageA.getByRole('main')).toContainText('Firefox on Windows');
      await pageA.getByRole('button', { name: 'Sign out other sessions', exact: true }).click();
      await expect(pageA.getByRole('status')).toHaveText('1 other session has been signed out.');
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText('This device');
      await expect(pageA.getByText('You are signed in on this device only.')).toBeVisible();
      await expectNoSeriousA11yViolations(pageA, 'Sessions after Sign out other sessions');
      await screenshot(pageA, 'sessions-2-others-signed-out', test.info());

      // B is signed out, A is not.
      await pageB.goto('/home');
      await expect(pageB).toHaveURL(/\/signin$/);
      await pageA.goto('/home');
      await expect(pageA).toHaveURL(/\/home$/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("one session's Sign out ends that session only", async ({ browser }) => {
    const parent = demoAccount('demo.parent');
    const [a, b] = await twoBrowsers(browser);
    try {
      const pageA = await a.newPage();
      const pageB = await b.newPage();
      await signInAlone(pageA, parent.username, parent.password);
      await signIn(pageB, parent.username, parent.password);

      await pageA.goto('/account/sessions');
      const rows = pageA.locator('table.sessions tbody tr');
      await expect(rows).toHaveCount(2);
      await rows
        .filter({ hasNotText: 'This device' })
        .getByRole('button', { name: 'Sign out', exact: true })
        .click();
      await expect(pageA.getByRole('status')).toHaveText('That session has been signed out.');
      await expect(rows).toHaveCount(1);
      await expectNoSeriousA11yViolations(pageA, 'Sessions after one Sign out');

      await pageB.goto('/account/sessions');
      await expect(pageB).toHaveURL(/\/signin\?next=%2Faccount%2Fsessions$/);
      await pageA.goto('/account/sessions');
      await expect(pageA).toHaveURL(/\/account\/sessions$/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
