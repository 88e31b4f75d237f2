import { expect, test, type Page } from '@playwright/test';
import {
  changePasswordViaApi,
  demoAccount,
  expectNoSeriousA11yViolations,
  mailIds,
  newMailTo,
  newPassword,
  notMeLinkOf,
  PasswordKeeper,
  resetCodeOf,
  resetLinkOf,
  screenshot,
  signIn,
  signOut,
  waitForMail,
} from '../lib/keyward';

// Forgot password (SPEC.md §4; seed 000 "Login Screen", seed 001's rule that
// only accounts that have signed in before get a link), with mail delivered
// over real SMTP to the capture server of scripts/browser-test:
//   password step "Forgot password?" -> /recovery?username=…  (username filled in, button "Next")
//   POST /recovery     -> /recovery/sent "Check your email", input "Code from the email", button "Continue"
//   email "Reset your keyward password": a /recovery/<token> link and an 8-digit code line
//   /recovery/<token>  "Choose a new password": "New password", "Confirm new password", button "Reset Password"
//                      -> /signin with "Your password has been changed"
//   used / unknown link: "This link has been used" / "This link doesn't work", link "Request a new link"
//   email "Your keyward password was changed": a /security/not-me/<token> link
//   /security/not-me/<token>  "Wasn't you?" and a button -> "Your account is secured"
//
// The suite shares one demo server: every test here puts the password back.

const MAIL_TIMEOUT = 30_000;

/** Demo emails (keyward_core::demo::DEMO_PEOPLE). */
const EMAIL: Record<string, string> = {
  'demo.admin': 'admin@riverside.example',
  'demo.teacher': 'tom.baker@riverside.example',
  'demo.parent': 'paula.adams@family.example',
};

async function expectCheckYourEmail(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/recovery\/sent$/);
  await expect(page.getByRole('heading', { name: 'Check your email', level: 1 })).toBeVisible();
  await expect(page.getByLabel('Code from the email', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Continue', exact: true })).toBeVisible();
}

async function expectResetPage(page: Page, username: string): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Choose a new password', level: 1 })).toBeVisible();
  await expect(page.locator('main')).toContainText(username);
  await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('autocomplete', 'new-password');
  await expect(page.getByLabel('Confirm new password', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Reset Password', exact: true })).toBeVisible();
}

/** Fills the reset page and lands on /signin with the success message. */
async function resetTo(page: Page, password: string): Promise<void> {
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Confirm new password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
  await expect(page).toHaveURL(/\/signin(\?|$)/);
  await expect(page.getByRole('status')).toContainText('Your password has been changed');
}

test.describe('forgot password', () => {
  test('demo.teacher resets the password with the emailed link', async ({ page }) => {
    const teacher = demoAccount('demo.teacher');
    const keeper = new PasswordKeeper(teacher);
    const shot = (step: string) => screenshot(page, `forgot-password-link-${step}`, test.info());
    try {
      // Seed 001: only an account that has signed in before gets a link.
      await signIn(page, teacher.username, teacher.password);
      await signOut(page);
      const before = await mailIds();

      // First screen, Sign in, username, Next, Forgot password?
      await page.goto('/');
      await page.getByRole('link', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Username', { exact: true }).fill(teacher.username);
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByRole('link', { name: 'Forgot password?', exact: true }).click();

      // The request page: the username is already there; Next sends the email.
      await expect(page).toHaveURL(/\/recovery\?username=demo\.teacher$/);
      await expect(page.getByRole('heading', { name: 'Forgot password?', level: 1 })).toBeVisible();
      await expect(page.getByLabel('Username', { exact: true })).toHaveValue(teacher.username);
      await expectNoSeriousA11yViolations(page, 'recovery request page');
      await shot('1-request');
      await page.getByRole('button', { name: 'Next', exact: true }).click();

      await expectCheckYourEmail(page);
      await expectNoSeriousA11yViolations(page, 'check your email page');
      await shot('2-check-your-email');

      // The email, over SMTP.
      const mail = await waitForMail(newMailTo(EMAIL[teacher.username], 'Reset', before), MAIL_TIMEOUT);
      const link = resetLinkOf(mail);
      expect(link.startsWith(process.env.KEYWARD_URL ?? ''), 'the link is built from the public URL').toBe(true);
      expect(mail.html, 'the HTML part carries the link too').toContain(link);
      expect(resetCodeOf(mail)).toMatch(/^\d{8}$/);

      // The reset page; first a mismatch.
      await page.goto(link);
      await expectResetPage(page, teacher.username);
      await expectNoSeriousA11yViolations(page, 'reset page');
      await shot('3-reset-page');
      const password = newPassword('Teach');
      await page.getByLabel('New password', { exact: true }).fill(password);
      await page.getByLabel('Confirm new password', { exact: true }).fill(`${password}x`);
      await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText(/don['’]t match/);
      await expectResetPage(page, teacher.username);
      await expectNoSeriousA11yViolations(page, 'reset page with a mismatch');
      await shot('4-reset-mismatch');

      // Then for real.
      await resetTo(page, password);
      keeper.changedTo(password);
      await expectNoSeriousA11yViolations(page, 'first screen after the reset');
      await shot('5-password-changed');

      // The reset did not sign in; the new password does, the old one no longer.
      await page.goto('/home');
      await expect(page).toHaveURL(/\/signin$/);
      await signIn(page, teacher.username, password);
      await shot('6-home');
      await signOut(page);

      // The link is used up.
      await page.goto(link);
      await expect(page.getByRole('heading', { name: 'This link has been used', level: 1 })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Request a new link', exact: true })).toHaveAttribute(
        'href',
        /\/recovery$/,
      );
      await expect(page.getByLabel('New password', { exact: true })).toHaveCount(0);
      await expectNoSeriousA11yViolations(page, 'used link page');
      await shot('7-link-used');

      // And a "password changed" email went out.
      await waitForMail(newMailTo(EMAIL[teacher.username], 'was changed', before), MAIL_TIMEOUT);

      await keeper.restore();
    } finally {
      await keeper.restoreAfterFailure();
    }
  });

  test('demo.parent resets the password with the emailed code', async ({ page }) => {
    const parent = demoAccount('demo.parent');
    const keeper = new PasswordKeeper(parent);
    const shot = (step: string) => screenshot(page, `forgot-password-code-${step}`, test.info());
    try {
      await signIn(page, parent.username, parent.password);
      await signOut(page);
      const before = await mailIds();

      // Straight to Forgot password?: an empty username field, Next.
      await page.goto('/recovery');
      const username = page.getByLabel('Username', { exact: true });
      await expect(username).toHaveValue('');
      await username.fill(parent.username);
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await expectCheckYourEmail(page);

      const mail = await waitForMail(newMailTo(EMAIL[parent.username], 'Reset', before), MAIL_TIMEOUT);
      const code = resetCodeOf(mail);

      // A wrong code first: the page says so and stays.
      const wrong = code === '00000000' ? '11111111' : '00000000';
      await page.getByLabel('Code from the email', { exact: true }).fill(wrong);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await expect(page.getByRole('alert')).toBeVisible();
      await expect(page.getByLabel('Code from the email', { exact: true })).toBeVisible();
      await expectNoSeriousA11yViolations(page, 'check your email page with a wrong code');
      await shot('1-wrong-code');

      await page.getByLabel('Code from the email', { exact: true }).fill(code);
      await shot('2-code');
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await expect(page).toHaveURL(/\/recovery\/[^/]+$/);
      await expectResetPage(page, parent.username);
      await shot('3-reset-page');

      const password = newPassword('Parent');
      await resetTo(page, password);
      keeper.changedTo(password);
      await shot('4-password-changed');

      await signIn(page, parent.username, password);
      await shot('5-home');
      await signOut(page);

      await keeper.restore();
    } finally {
      await keeper.restoreAfterFailure();
    }
  });

  test('an unknown link says it does not work and offers a new one', async ({ page }) => {
    const response = await page.goto('/recovery/not-a-real-token');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: "This link doesn't work", level: 1 })).toBeVisible();
    const again = page.getByRole('link', { name: 'Request a new link', exact: true });
    await expect(again).toBeVisible();
    await expect(page.getByLabel('New password', { exact: true })).toHaveCount(0);
    await expectNoSeriousA11yViolations(page, 'unknown link page');
    await screenshot(page, 'forgot-password-unknown-link', test.info());

    await again.click();
    await expect(page).toHaveURL(/\/recovery$/);
    await expect(page.getByRole('heading', { name: 'Forgot password?', level: 1 })).toBeVisible();
  });

  test('"this wasn\'t me" from the password-changed email secures the account', async ({ page, browser }) => {
    const admin = demoAccount('demo.admin');
    const keeper = new PasswordKeeper(admin);
    const shot = (step: string) => screenshot(page, `forgot-password-not-me-${step}`, test.info());
    const elsewhere = await browser.newContext();
    try {
      const before = await mailIds();
      const password = newPassword('Admin');
      await changePasswordViaApi(admin.username, admin.password, password);
      keeper.changedTo(password);

      // Someone is signed in with the new password on another device.
      const other = await elsewhere.newPage();
      await signIn(other, admin.username, password);

      const mail = await waitForMail(newMailTo(EMAIL[admin.username], 'was changed', before), MAIL_TIMEOUT);
      const link = notMeLinkOf(mail);
      expect(mail.html, 'the HTML part carries the link too').toContain(link);

      await page.goto(link);
      await expect(page.getByRole('heading', { name: "Wasn't you?", level: 1 })).toBeVisible();
      const button = page.getByRole('button', { name: 'Sign out everywhere and tell my administrators' });
      await expect(button).toBeVisible();
      await expectNoSeriousA11yViolations(page, 'not-me confirmation page');
      await shot('1-confirm');

      await button.click();
      await expect(page.getByRole('heading', { name: 'Your account is secured', level: 1 })).toBeVisible();
      await expect(page.getByRole('status')).toContainText('signed your account out everywhere');
      await expect(page.getByRole('link', { name: 'Choose a new password', exact: true })).toBeVisible();
      await expectNoSeriousA11yViolations(page, 'not-me done page');
      await shot('2-secured');

      // The other device is signed out.
      await other.goto('/home');
      await expect(other).toHaveURL(/\/signin$/);

      // The link works once.
      await page.goto(link);
      await expect(button).toHaveCount(0);
      await expect(page.getByRole('heading', { name: 'This security link no longer works', level: 1 })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Choose a new password', exact: true })).toBeVisible();
      await shot('3-link-again');

      await keeper.restore();
    } finally {
      await elsewhere.close();
      await keeper.restoreAfterFailure();
    }
  });
});
