import * as fs from 'node:fs';
import { expect, request, test, type Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import {
  demoAccount,
  expectNoSeriousA11yViolations,
  fromMenu,
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

// Two-step verification with an authenticator app (SPEC.md §8 R-MFA-1, §2
// R-ACC-2; seed 001: "Resetting your password will not deactivate
// Multi-Factor Authentication"), against the page contract:
//   /account                 link "Two-step verification" (/account/mfa)
//   /account/mfa             h1 "Two-step verification"; off: "Off." and the region "Set up an
//                            authenticator app" ("Current password", button "Continue");
//                            on: "On.", "Recovery codes left" "N of 10", the regions
//                            "Get new recovery codes" ("Current password", "Code from your app or a recovery code", button of the same name)
//                            and "Turn off two-step verification" (a link of the same name to
//                            /account/mfa/off, the confirm page: "Current password", "Code from
//                            your app or a recovery code", button of the same name, "Keep it on")
//   POST /account/mfa/totp   h1 "Set up an authenticator app": role=img "QR code …", the figure
//                            "Or type this key" (the key in groups of four), "Enter the 6-digit
//                            code from the app", button "Turn on"
//   -> codes page            h1 "Your recovery codes", role=status, the list "Recovery codes" (10),
//                            link "Download recovery codes" (keyward-recovery-codes.txt)
//   /signin/verify           after the password: "6-digit code" or, through "Use a recovery code",
//                            "Recovery code"; button "Verify"; refusals in role=alert
//
// The test plays the authenticator app with the key it reads from the page.
// The suite shares one demo server and specs/signin.spec.ts signs every demo
// account in with the password alone: the test turns two-step verification
// off and puts the password back at the end, also when it fails.

const MAIL_TIMEOUT = 30_000;
const TEACHER_EMAIL = 'tom.baker@riverside.example';
const BASE_URL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';

/** The authenticator app: RFC 6238 with the parameters keyward gives (SHA-1, 6 digits, 30 s). */
function authenticator(key: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
}

/** Username and password through the sign-in pages, up to the second step. */
async function signInToSecondStep(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/signin\/verify$/);
  await expect(page.getByRole('heading', { name: 'Two-step verification', level: 1 })).toBeVisible();
}

/** Sends a code on the second step (the app's, or a recovery code after "Use a recovery code"). */
async function enterSecondStep(page: Page, code: string, kind: 'app' | 'recovery'): Promise<void> {
  if (kind === 'recovery' && (await page.getByLabel('Recovery code', { exact: true }).count()) === 0) {
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
  }
  await page.getByLabel(kind === 'app' ? '6-digit code' : 'Recovery code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
}

/** Reads the ten recovery codes off the codes page and checks the download. */
async function readRecoveryCodes(page: Page): Promise<string[]> {
  await expect(page.getByRole('heading', { name: 'Your recovery codes', level: 1 })).toBeVisible();
  const items = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(items).toHaveCount(10);
  const codes = (await items.allInnerTexts()).map((c) => c.trim());
  for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  expect(new Set(codes).size).toBe(10);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download recovery codes', exact: true }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('keyward-recovery-codes.txt');
  const file = fs.readFileSync(await download.path(), 'utf8');
  for (const code of codes) expect(file).toContain(`${code}\n`);
  return codes;
}

/**
 * Turns two-step verification off through the JSON API with recovery codes
 * (one to sign in, one to turn it off): the clean-up of a failed test.
 */
async function turnOffViaApi(username: string, password: string, codes: string[]): Promise<void> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const first = await api.post('/api/v1/session', { data: { username, password } });
    expect(first.status(), await first.text()).toBe(200);
    const answer = (await first.json()) as { mfa_required: boolean; csrf_token?: string };
    let csrf = answer.csrf_token;
    if (answer.mfa_required) {
      const second = await api.post('/api/v1/session/mfa', { data: { recovery_code: codes.shift() } });
      expect(second.status(), await second.text()).toBe(200);
      csrf = ((await second.json()) as { csrf_token: string }).csrf_token;
    }
    const me = await api.get('/api/v1/me');
    if (((await me.json()) as { mfa_enabled: boolean }).mfa_enabled) {
      const off = await api.delete('/api/v1/me/mfa', {
        headers: { 'X-CSRF-Token': csrf! },
        data: { password, code: codes.shift() },
      });
      expect(off.status(), await off.text()).toBe(204);
    }
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf! } });
  } finally {
    await api.dispose();
  }
}

test('demo.teacher turns on two-step verification, signs in with codes, resets the password and turns it off', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const teacher = demoAccount('demo.teacher');
  const keeper = new PasswordKeeper(teacher);
  const shot = (step: string) => screenshot(page, `mfa-${step}`, test.info());
  let mfaOn = false;
  let unused: string[] = [];
  try {
    await signIn(page, teacher.username, teacher.password);

    // Menu > Account Settings > Two-step verification.
    await fromMenu(page, 'Account Settings');
    await page.getByRole('link', { name: 'Two-step verification', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/mfa$/);
    await expect(page.getByRole('heading', { name: 'Two-step verification', level: 1 })).toBeVisible();
    await expect(page.getByText('Off.', { exact: true })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'Two-step verification, off');
    await shot('1-off');

    // Set up an authenticator app: the password again.
    const setUp = page.getByRole('region', { name: 'Set up an authenticator app' });
    const password = setUp.getByLabel('Current password', { exact: true });
    await expect(password).toHaveAttribute('autocomplete', 'current-password');
    await password.fill(`${teacher.password}-wrong`);
    await setUp.getByRole('button', { name: 'Continue', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Your password is not right.');
    await page.getByRole('region', { name: 'Set up an authenticator app' }).getByLabel('Current password', { exact: true }).fill(teacher.password);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();

    // The QR code and the key as text; the test is the app.
    await expect(page.getByRole('heading', { name: 'Set up an authenticator app', level: 1 })).toBeVisible();
    const qr = page.getByRole('img', { name: /QR code/ });
    await expect(qr).toBeVisible();
    await expect(qr.locator('svg')).toBeVisible();
    const typed = (await page.getByRole('figure', { name: 'Or type this key' }).locator('code').innerText()).trim();
    expect(typed).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const key = typed.replace(/ /g, '');
    await expect(page.getByRole('link', { name: 'Open it in your authenticator app' })).toHaveAttribute(
      'href',
      new RegExp(`^otpauth://totp/.*secret=${key}`),
    );
    const app = authenticator(key);
    const codeField = page.getByLabel('Enter the 6-digit code from the app', { exact: true });
    await expect(codeField).toHaveAttribute('inputmode', 'numeric');
    await expect(codeField).toHaveAttribute('autocomplete', 'one-time-code');
    await expectNoSeriousA11yViolations(page, 'Set up an authenticator app');
    await shot('2-set-up');

    // A wrong code is refused; the app's code turns it on.
    const now = app.generate();
    await codeField.fill(now === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('That code is not right');
    await expectNoSeriousA11yViolations(page, 'Set up with a wrong code');
    const first = app.generate();
    await page.getByLabel('Enter the 6-digit code from the app', { exact: true }).fill(first);
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Two-step verification is on');
    mfaOn = true;
    const codes = await readRecoveryCodes(page);
    unused = [...codes];
    await expectNoSeriousA11yViolations(page, 'Your recovery codes');
    await shot('3-recovery-codes');

    await page.getByRole('link', { name: 'Done', exact: true }).click();
    await expect(page.getByText('On.', { exact: true })).toBeVisible();
    await expect(page.locator('dd', { hasText: '10 of 10' })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'Two-step verification, on');
    await shot('4-on');
    await signOut(page);

    // The next sign-in asks for a code; the one already used is refused.
    await signInToSecondStep(page, teacher.username, teacher.password);
    const appCode = page.getByLabel('6-digit code', { exact: true });
    await expect(appCode).toHaveAttribute('autocomplete', 'one-time-code');
    await expect(appCode).toHaveAttribute('inputmode', 'numeric');
    await expectNoSeriousA11yViolations(page, 'second step');
    await shot('5-second-step');
    await enterSecondStep(page, first, 'app');
    await expect(page.getByRole('alert')).toContainText('already used');
    await expect(page).toHaveURL(/\/signin\/verify/);
    await expectNoSeriousA11yViolations(page, 'second step with a used code');
    await shot('6-code-used');
    // The next step's code (within the one step of drift allowed) is new.
    await enterSecondStep(page, app.generate({ timestamp: Date.now() + 30_000 }), 'app');
    await expect(page).toHaveURL(/\/home$/);
    await signOut(page);

    // A recovery code works once.
    await signInToSecondStep(page, teacher.username, teacher.password);
    await page.getByRole('link', { name: 'Use a recovery code', exact: true }).click();
    await expectNoSeriousA11yViolations(page, 'second step with a recovery code');
    const once = unused.shift()!;
    await enterSecondStep(page, once.toUpperCase(), 'recovery');
    await expect(page).toHaveURL(/\/home$/);
    await page.goto('/account/mfa');
    await expect(page.locator('dd', { hasText: '9 of 10' })).toBeVisible();
    await signOut(page);
    await signInToSecondStep(page, teacher.username, teacher.password);
    await enterSecondStep(page, once, 'recovery');
    await expect(page.getByRole('alert')).toContainText('already used');
    await enterSecondStep(page, unused.shift()!, 'recovery');
    await expect(page).toHaveURL(/\/home$/);
    await signOut(page);

    // Forgot password? by email: the new password still needs the second step.
    const before = await mailIds();
    await page.goto('/signin/username');
    await page.getByLabel('Username', { exact: true }).fill(teacher.username);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('link', { name: 'Forgot password?', exact: true }).click();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Check your email', level: 1 })).toBeVisible();
    const mail = await waitForMail(newMailTo(TEACHER_EMAIL, 'Reset', before), MAIL_TIMEOUT);
    await page.goto(resetLinkOf(mail));
    const reset = newPassword('Teach');
    await page.getByLabel('New password', { exact: true }).fill(reset);
    await page.getByLabel('Confirm new password', { exact: true }).fill(reset);
    await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Your password has been changed');
    keeper.changedTo(reset);
    await signInToSecondStep(page, teacher.username, reset);
    await shot('7-second-step-after-reset');
    await enterSecondStep(page, unused.shift()!, 'recovery');
    await expect(page).toHaveURL(/\/home$/);

    // Get new recovery codes: the old ones stop working.
    await page.goto('/account/mfa');
    const newCodes = page.getByRole('region', { name: 'Get new recovery codes' });
    await newCodes.getByLabel('Current password', { exact: true }).fill(reset);
    await newCodes.getByLabel('Code from your app or a recovery code', { exact: true }).fill(unused.shift()!);
    await newCodes.getByRole('button', { name: 'Get new recovery codes', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('The old ones no longer work');
    const fresh = await readRecoveryCodes(page);
    expect(fresh.filter((c) => codes.includes(c))).toEqual([]);
    const stale = unused;
    unused = [...fresh];

    // Turn it off, on its confirm page: the password and a code; an old recovery code is refused.
    await page.goto('/account/mfa');
    await page
      .getByRole('region', { name: 'Turn off two-step verification' })
      .getByRole('link', { name: 'Turn off two-step verification', exact: true })
      .click();
    await expect(page).toHaveURL(/\/account\/mfa\/off$/);
    let turnOff = page.getByRole('main');
    await turnOff.getByLabel('Current password', { exact: true }).fill(reset);
    await turnOff.getByLabel('Code from your app or a recovery code', { exact: true }).fill(stale[0]);
    await turnOff.getByRole('button', { name: 'Turn off two-step verification', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('That code is not right');
    await expectNoSeriousA11yViolations(page, 'Turn off with a wrong code');
    turnOff = page.getByRole('main');
    await turnOff.getByLabel('Current password', { exact: true }).fill(reset);
    await turnOff.getByLabel('Code from your app or a recovery code', { exact: true }).fill(unused.shift()!);
    await turnOff.getByRole('button', { name: 'Turn off two-step verification', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Two-step verification is off');
    await expect(page.getByText('Off.', { exact: true })).toBeVisible();
    mfaOn = false;
    await shot('8-off-again');

    // The password alone signs in again.
    await signOut(page);
    await signIn(page, teacher.username, reset);
    await signOut(page);
    await keeper.restore();
  } finally {
    if (mfaOn) {
      try {
        await turnOffViaApi(teacher.username, keeper.current, unused);
      } catch (err) {
        console.error(`could not turn two-step verification off for ${teacher.username}: ${String(err)}`);
      }
    }
    await keeper.restoreAfterFailure();
  }
});
