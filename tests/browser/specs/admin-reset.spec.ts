import { expect, request, test, type Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import {
  demoAccount,
  expectNoSeriousA11yViolations,
  mailIds,
  newMailTo,
  newPassword,
  PasswordKeeper,
  resetLinkOf,
  screenshot,
  signIn,
  signOut,
  waitForMail,
} from '../lib/keyward';

// Seed 001's administrator flow (SPEC.md §9 R-ADM-2): Users > the user >
// **Reset Password** > confirm > the user gets an email with a link valid
// for 1 hour; the administrator must have two-step verification on their own
// account. Page contract:
//   /users/{id}                  link "Reset Password" (administrators with View Users and Reset Passwords)
//   /users/{id}/password-reset   h1 "Reset Password"; "Send a password reset link to t***@…? It works for 1 hour.";
//                                button "Reset Password", link "Cancel"
//                                without two-step verification: 403, role=alert and link "Turn on two-step verification"
//   POST → result                role=status "A password reset link is on its way to t***@…"
//
// Also R-ADM-3 (**Set a temporary password**: the person is held at the
// password change until they choose their own) and R-ADM-4 (**Reset two-step
// verification** for someone who lost their second factor).
//
// The suite shares one demo server: the test turns demo.admin's two-step
// verification off again and puts demo.teacher's password back, also when
// it fails.

const MAIL_TIMEOUT = 30_000;
const TEACHER_EMAIL = 'tom.baker@riverside.example';
const BASE_URL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';

/** The teacher's account id, from an API sign-in (which also makes them eligible: they have signed in). */
async function signInOnceViaApi(username: string, password: string): Promise<string> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const answer = await api.post('/api/v1/session', { data: { username, password } });
    expect(answer.status(), await answer.text()).toBe(200);
    const body = (await answer.json()) as { user: { id: string }; csrf_token: string };
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': body.csrf_token } });
    return body.user.id;
  } finally {
    await api.dispose();
  }
}

/** Account Settings > Two-step verification > Set up an authenticator app; returns the recovery codes. */
async function turnOnAuthenticator(page: Page, password: string): Promise<string[]> {
  await page.goto('/account/mfa');
  const setUp = page.getByRole('region', { name: 'Set up an authenticator app' });
  await setUp.getByLabel('Current password', { exact: true }).fill(password);
  await setUp.getByRole('button', { name: 'Continue', exact: true }).click();
  const typed = (await page.getByRole('figure', { name: 'Or type this key' }).locator('code').innerText()).trim();
  const app = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(typed.replace(/\s+/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
  await page.getByLabel('Enter the 6-digit code from the app', { exact: true }).fill(app.generate());
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Two-step verification is on');
  const items = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(items).toHaveCount(10);
  return (await items.allInnerTexts()).map((c) => c.trim());
}

/** Turns two-step verification off on its confirm page, with the password and a recovery code. */
async function turnOffAuthenticator(page: Page, password: string, code: string): Promise<void> {
  await page.goto('/account/mfa/off');
  const turnOff = page.getByRole('main');
  await turnOff.getByLabel('Current password', { exact: true }).fill(password);
  await turnOff.getByLabel('Code from your app or a recovery code', { exact: true }).fill(code);
  await turnOff.getByRole('button', { name: 'Turn off two-step verification', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Two-step verification is off');
}

/** Types the username and password on the sign-in pages, stopping wherever keyward leads next. */
async function typeSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Signs in with the password and a recovery code as the second step. */
async function signInWithRecoveryCode(page: Page, username: string, password: string, code: string): Promise<void> {
  await typeSignIn(page, username, password);
  await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
  await page.getByLabel('Recovery code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page).toHaveURL(/\/home$/);
}

/** The clean-up of a failed test: two-step verification off through the API with recovery codes. */
async function turnOffViaApi(username: string, password: string, codes: string[]): Promise<void> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const first = await api.post('/api/v1/session', { data: { username, password } });
    const answer = (await first.json()) as { mfa_required: boolean; csrf_token?: string };
    let csrf = answer.csrf_token;
    if (answer.mfa_required) {
      const second = await api.post('/api/v1/session/mfa', { data: { recovery_code: codes.shift() } });
      csrf = ((await second.json()) as { csrf_token: string }).csrf_token;
    }
    await api.delete('/api/v1/me/mfa', {
      headers: { 'X-CSRF-Token': csrf! },
      data: { password, code: codes.shift() },
    });
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf! } });
  } finally {
    await api.dispose();
  }
}

test('an administrator without two-step verification is told to turn it on first', async ({ page }) => {
  const admin = demoAccount('demo.admin');
  const teacher = demoAccount('demo.teacher');
  const teacherId = await signInOnceViaApi(teacher.username, teacher.password);
  await signIn(page, admin.username, admin.password);
  await page.goto(`/users/${teacherId}`);
  await page.getByRole('link', { name: 'Reset Password', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${teacherId}/password-reset$`));
  await expect(page.getByRole('alert')).toContainText('Turn on two-step verification on your own account first');
  const turnOn = page.getByRole('link', { name: 'Turn on two-step verification', exact: true });
  await expect(turnOn).toHaveAttribute('href', '/account/mfa');
  await expectNoSeriousA11yViolations(page, 'Reset Password without two-step verification');
  await screenshot(page, 'admin-reset-0-mfa-required', test.info());
  await turnOn.click();
  await expect(page).toHaveURL(/\/account\/mfa$/);
  await signOut(page);
});

test('demo.admin turns on two-step verification and sends demo.teacher a reset link that works', async ({ page }) => {
  test.setTimeout(120_000);
  const admin = demoAccount('demo.admin');
  const teacher = demoAccount('demo.teacher');
  const keeper = new PasswordKeeper(teacher);
  const shot = (step: string) => screenshot(page, `admin-reset-${step}`, test.info());
  let codes: string[] = [];
  try {
    // The teacher has signed in before (seed 001: otherwise no link can be sent).
    await signIn(page, teacher.username, teacher.password);
    await signOut(page);
    const teacherId = await signInOnceViaApi(teacher.username, teacher.password);

    await signIn(page, admin.username, admin.password);
    codes = await turnOnAuthenticator(page, admin.password);

    // Users > the user > Reset Password > confirm.
    await page.goto(`/users/${teacherId}`);
    await expect(page.getByRole('heading', { name: 'Tom Baker', level: 1 })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'a person with the administrator actions');
    await shot('1-person');
    await page.getByRole('link', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Reset Password', level: 1 })).toBeVisible();
    await expect(page.getByText('Send a password reset link to t***@riverside.example? It works for 1 hour.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Cancel', exact: true })).toHaveAttribute('href', `/users/${teacherId}`);
    await expectNoSeriousA11yViolations(page, 'Reset Password, confirm');
    await shot('2-confirm');
    const before = await mailIds();
    await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('A password reset link is on its way to t***@riverside.example');
    await expectNoSeriousA11yViolations(page, 'Reset Password, sent');
    await shot('3-sent');

    // The teacher's email, from the SMTP capture: marked as sent by their administrator.
    const mail = await waitForMail(newMailTo(TEACHER_EMAIL, 'Reset', before), MAIL_TIMEOUT);
    expect(mail.text).toContain('your administrator');
    expect(mail.text).toContain('works for 1 hour');
    await signOut(page);

    await page.goto(resetLinkOf(mail));
    const chosen = newPassword('Admin');
    await page.getByLabel('New password', { exact: true }).fill(chosen);
    await page.getByLabel('Confirm new password', { exact: true }).fill(chosen);
    await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Your password has been changed');
    keeper.changedTo(chosen);
    await signIn(page, teacher.username, chosen);
    await signOut(page);
    await keeper.restore();

    // demo.admin's two-step verification off again, for the rest of the suite.
    await signInWithRecoveryCode(page, admin.username, admin.password, codes.shift()!);
    await turnOffAuthenticator(page, admin.password, codes.shift()!);
    codes = [];
    await signOut(page);
  } finally {
    if (codes.length > 0) {
      try {
        await turnOffViaApi(admin.username, admin.password, codes);
      } catch (err) {
        console.error(`could not turn two-step verification off for ${admin.username}: ${String(err)}`);
      }
    }
    await keeper.restoreAfterFailure();
  }
});

test('a temporary password from demo.admin holds demo.teacher at the password change until they choose their own', async ({
  browser,
  page,
}) => {
  test.setTimeout(120_000);
  const admin = demoAccount('demo.admin');
  const teacher = demoAccount('demo.teacher');
  const keeper = new PasswordKeeper(teacher);
  let codes: string[] = [];
  const teacherContext = await browser.newContext({ baseURL: BASE_URL });
  try {
    const teacherId = await signInOnceViaApi(teacher.username, teacher.password);
    await signIn(page, admin.username, admin.password);
    codes = await turnOnAuthenticator(page, admin.password);

    // Users > the user > Set a temporary password > confirm: shown once.
    await page.goto(`/users/${teacherId}`);
    await page.getByRole('link', { name: 'Set a temporary password', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Set a temporary password', level: 1 })).toBeVisible();
    await expect(page.getByText('they must choose their own right after signing in with it')).toBeVisible();
    await page.getByRole('button', { name: 'Set a temporary password', exact: true }).click();
    const temporary = (await page.locator('#temporary-password').innerText()).trim();
    expect(temporary.length).toBeGreaterThan(7);
    keeper.changedTo(temporary);
    await expectNoSeriousA11yViolations(page, 'a temporary password, shown once');
    await screenshot(page, 'admin-temporary-1-shown', test.info());

    // The teacher signs in with it and can do nothing but choose their own.
    const teacherPage = await teacherContext.newPage();
    await typeSignIn(teacherPage, teacher.username, temporary);
    await expect(teacherPage).toHaveURL(/\/account\/password$/);
    await expect(teacherPage.getByRole('status').first()).toContainText('temporary password');
    await teacherPage.goto('/home');
    await expect(teacherPage).toHaveURL(/\/account\/password$/);
    await teacherPage.goto('/classes');
    await expect(teacherPage).toHaveURL(/\/account\/password$/);
    await expectNoSeriousA11yViolations(teacherPage, 'the password change a temporary password holds one at');
    await screenshot(teacherPage, 'admin-temporary-2-held', test.info());
    const chosen = newPassword('Temp');
    await teacherPage.getByLabel('Current password', { exact: true }).fill(temporary);
    await teacherPage.getByLabel('New password', { exact: true }).fill(chosen);
    await teacherPage.getByLabel('Confirm new password', { exact: true }).fill(chosen);
    await teacherPage.getByRole('button', { name: 'Update Password', exact: true }).click();
    keeper.changedTo(chosen);
    await teacherPage.goto('/home');
    await expect(teacherPage).toHaveURL(/\/home$/);
    await expect(teacherPage.getByText(`Signed in as ${teacher.username}`).first()).toBeVisible();
    await keeper.restore();

    // demo.admin's two-step verification off again, for the rest of the suite.
    await signOut(page);
    await signInWithRecoveryCode(page, admin.username, admin.password, codes.shift()!);
    await turnOffAuthenticator(page, admin.password, codes.shift()!);
    codes = [];
    await signOut(page);
  } finally {
    await teacherContext.close();
    if (codes.length > 0) {
      try {
        await turnOffViaApi(admin.username, admin.password, codes);
      } catch (err) {
        console.error(`could not turn two-step verification off for ${admin.username}: ${String(err)}`);
      }
    }
    await keeper.restoreAfterFailure();
  }
});

test('demo.admin removes the two-step verification demo.teacher lost, and the teacher signs in with the password alone', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const admin = demoAccount('demo.admin');
  const teacher = demoAccount('demo.teacher');
  let adminCodes: string[] = [];
  let teacherCodes: string[] = [];
  try {
    const teacherId = await signInOnceViaApi(teacher.username, teacher.password);
    // The teacher turns on an authenticator app, then loses the phone (and the codes).
    await signIn(page, teacher.username, teacher.password);
    teacherCodes = await turnOnAuthenticator(page, teacher.password);
    await signOut(page);

    await signIn(page, admin.username, admin.password);
    adminCodes = await turnOnAuthenticator(page, admin.password);
    await page.goto(`/users/${teacherId}`);
    await page.getByRole('link', { name: 'Reset two-step verification', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Reset two-step verification', level: 1 })).toBeVisible();
    await expect(page.getByText('signed out everywhere')).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'Reset two-step verification, confirm');
    const before = await mailIds();
    await page.getByRole('button', { name: 'Reset two-step verification', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Two-step verification was removed');
    teacherCodes = [];
    const mail = await waitForMail(newMailTo(TEACHER_EMAIL, 'Two-step verification was removed', before), MAIL_TIMEOUT);
    expect(mail.text).toContain('administrator');

    // The teacher signs in with the password alone.
    await signOut(page);
    await signIn(page, teacher.username, teacher.password);
    await signOut(page);

    await signInWithRecoveryCode(page, admin.username, admin.password, adminCodes.shift()!);
    await turnOffAuthenticator(page, admin.password, adminCodes.shift()!);
    adminCodes = [];
    await signOut(page);
  } finally {
    for (const [account, codes] of [
      [admin, adminCodes],
      [teacher, teacherCodes],
    ] as const) {
      if (codes.length > 0) {
        try {
          await turnOffViaApi(account.username, account.password, [...codes]);
        } catch (err) {
          console.error(`could not turn two-step verification off for ${account.username}: ${String(err)}`);
        }
      }
    }
  }
});
