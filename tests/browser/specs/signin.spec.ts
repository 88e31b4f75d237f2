import { expect, test, type Page } from '@playwright/test';
import { demoAccounts, expectNoSeriousA11yViolations, mainMenu, screenshot, type DemoAccount } from '../lib/keyward';

// Sign-in pages (SPEC.md §2 R-ACC-2, §10 R-UI-1), against the page contract:
//   GET  /                 -> /signin (signed out) or /home (signed in)
//   GET  /signin           "Welcome to keyward", link "Sign in" (/signin/username), link "Use a code" (/activate)
//   GET  /signin/username  input "Username" (autocomplete username), button "Next"
//   POST /signin/username  password step: the username, input "Password"
//                          (autocomplete current-password), button "Sign in", link "Forgot password?"
//   POST /signin/password  -> /home, or the password step again with role="alert" "don't match"
//   GET  /home             "Signed in as USERNAME", button "Sign out" -> /signin

const accounts = demoAccounts();

const EXPECTED_ROLES = ['platform_admin', 'lead_teacher', 'teacher', 'learner', 'parent'];

function shotName(account: DemoAccount, step: string): string {
  return `${account.role}-${account.username}-${step}`;
}

async function expectFirstScreen(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole('heading', { name: 'Welcome to keyward' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Use a code', exact: true })).toBeVisible();
}

/** From the first screen, through the username step, to the password step. */
async function toPasswordStep(page: Page, account: DemoAccount, opts: { axe?: boolean; shots?: boolean } = {}) {
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/signin\/username$/);
  const username = page.getByLabel('Username', { exact: true });
  await expect(username).toBeVisible();
  if (opts.axe) await expectNoSeriousA11yViolations(page, 'username step');
  await username.fill(account.username);
  if (opts.shots) await screenshot(page, shotName(account, '2-username-step'), test.info());

  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expectPasswordStep(page, account);
  if (opts.axe) await expectNoSeriousA11yViolations(page, 'password step');
}

async function expectPasswordStep(page: Page, account: DemoAccount): Promise<void> {
  await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Forgot password?', exact: true })).toBeVisible();
  await expect(page.locator('body')).toContainText(account.username);
}

test.describe('sign-in', () => {
  test('demo accounts cover every role', () => {
    const roles = new Set(accounts.map((a) => a.role));
    for (const role of EXPECTED_ROLES) {
      expect(roles, `demo-accounts.txt has no ${role} account`).toContain(role);
    }
    expect(accounts.filter((a) => a.role === 'learner').length, 'several learners').toBeGreaterThan(1);
  });

  for (const account of accounts) {
    test(`${account.role} ${account.username} signs in and out`, async ({ page }) => {
      // First screen.
      await page.goto('/');
      await expectFirstScreen(page);
      await expectNoSeriousA11yViolations(page, 'first screen');
      await screenshot(page, shotName(account, '1-first-screen'), test.info());

      // Username step, then password step.
      await toPasswordStep(page, account, { axe: true, shots: true });
      await page.getByLabel('Password', { exact: true }).fill(account.password);
      await screenshot(page, shotName(account, '3-password-step'), test.info());
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();

      // Home.
      await expect(page).toHaveURL(/\/home$/);
      await expect(page.getByText(`Signed in as ${account.username}`).first()).toBeVisible();
      await expectNoSeriousA11yViolations(page, 'home');
      await screenshot(page, shotName(account, '4-home'), test.info());

      // Signed in, / leads home.
      await page.goto('/');
      await expect(page).toHaveURL(/\/home$/);

      // Sign out returns to the first screen, and / leads there again.
      await (await mainMenu(page)).getByRole('button', { name: 'Sign out', exact: true }).click();
      await expectFirstScreen(page);
      await screenshot(page, shotName(account, '5-signed-out'), test.info());
      await page.goto('/');
      await expectFirstScreen(page);
    });
  }

  test('a wrong password shows an alert and stays on the password step', async ({ page }) => {
    const account = accounts[0];
    await page.goto('/signin');
    await toPasswordStep(page, account);
    await page.getByLabel('Password', { exact: true }).fill(`${account.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    const alert = page.getByRole('alert');
    await expect(alert).toBeVisible();
    await expect(alert).toContainText(/don['’]t match/i);
    await expect(page).not.toHaveURL(/\/home$/);
    await expectPasswordStep(page, account);
    await expectNoSeriousA11yViolations(page, 'password step with error');
    await screenshot(page, shotName(account, '3b-wrong-password'), test.info());

    // The re-rendered step still works with the right password.
    await page.getByLabel('Password', { exact: true }).fill(account.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/home$/);
    await expect(page.getByText(`Signed in as ${account.username}`).first()).toBeVisible();
  });

  test('the first screen offers Use a code and the password step Forgot password?', async ({ page }) => {
    await page.goto('/signin');
    await expectFirstScreen(page);
    await expect(page.getByRole('link', { name: 'Sign in', exact: true })).toHaveAttribute(
      'href',
      /\/signin\/username$/,
    );
    await expect(page.getByRole('link', { name: 'Use a code', exact: true })).toHaveAttribute('href', /\/activate$/);

    await toPasswordStep(page, accounts[accounts.length - 1]);
    const forgot = page.getByRole('link', { name: 'Forgot password?', exact: true });
    await expect(forgot).toBeVisible();
    await expect(forgot).toHaveAttribute('href', /.+/);
  });

  test('inputs carry autocomplete hints for password managers', async ({ page }) => {
    const account = accounts[accounts.length - 1];
    await page.goto('/signin/username');
    const username = page.getByLabel('Username', { exact: true });
    await expect(username).toHaveAttribute('autocomplete', 'username');
    await expect(username).toHaveAttribute('name', 'username');

    await username.fill(account.username);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    const password = page.getByLabel('Password', { exact: true });
    await expect(password).toHaveAttribute('autocomplete', 'current-password');
    await expect(password).toHaveAttribute('name', 'password');
    await expect(password).toHaveAttribute('type', 'password');
  });
});
