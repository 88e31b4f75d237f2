import { expect, request, test, type Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import { demoAccount, expectNoSeriousA11yViolations, screenshot, signIn } from '../lib/keyward';

// Required two-step verification (SPEC.md §8 R-MFA-1), against the page contract:
//   /school/settings        (lead teacher) the section "Two-step verification": the group
//                           "Require two-step verification for" with a checkbox per role
//                           ("Teachers", …) and its own "Save" (POST /school/settings/mfa)
//                           -> role=status "Saved. People in the roles you ticked …"
//   a teacher signing in    lands on /account/mfa (Account Settings > Two-step verification);
//                           every other page redirects there, every other API call answers
//                           403 mfa_enrolment_required, until an authenticator app is on.
//
// The suite shares one demo server and other specs sign demo.teacher in with
// the password alone: the test unticks the rule and turns the teacher's
// two-step verification off at the end, through the JSON API, also when it fails.

const BASE_URL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';

/** The authenticator app: RFC 6238 with keyward's parameters (SHA-1, 6 digits, 30 s). */
function authenticator(key: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  });
}

/** The school settings' two-step section: tick exactly `roles`, then its Save. */
async function requireFor(page: Page, roles: string[]): Promise<void> {
  await page.goto('/school/settings');
  const group = page.getByRole('group', { name: 'Require two-step verification for' });
  for (const box of await group.getByRole('checkbox').all()) {
    const label = (await box.evaluate((el) => (el as HTMLInputElement).labels?.[0]?.textContent ?? '')).trim();
    await box.setChecked(roles.includes(label));
  }
  await page.locator('form[action="/school/settings/mfa"]').getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Saved. People in the roles you ticked');
}

/** Through the API as the lead teacher: the school requires two-step verification of nobody. */
async function clearRuleViaApi(username: string, password: string): Promise<void> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const session = await api.post('/api/v1/session', { data: { username, password } });
    expect(session.status(), await session.text()).toBe(200);
    const { csrf_token: csrf, user } = (await session.json()) as { csrf_token: string; user: { school_id: string } };
    const clear = await api.put(`/api/v1/schools/${user.school_id}/mfa`, {
      headers: { 'X-CSRF-Token': csrf },
      data: { required_roles: [] },
    });
    expect(clear.status(), await clear.text()).toBe(200);
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
  } finally {
    await api.dispose();
  }
}

/** Through the API: two-step verification off, signing in and turning it off with recovery codes. */
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
    if (((await me.json()) as { mfa_enabled?: boolean }).mfa_enabled) {
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

test('a school that requires it of teachers holds demo.teacher at enrolment until an app is set up', async ({ browser }) => {
  test.setTimeout(120_000);
  const lead = demoAccount('demo.lead');
  const teacher = demoAccount('demo.teacher');
  const leadContext = await browser.newContext();
  const teacherContext = await browser.newContext();
  let ruleOn = false;
  let mfaOn = false;
  let codes: string[] = [];
  try {
    // The lead teacher ticks "Teachers" in School settings > Two-step verification.
    const leadPage = await leadContext.newPage();
    await signIn(leadPage, lead.username, lead.password);
    await leadPage.goto('/school/settings');
    await expect(leadPage.getByRole('heading', { name: 'Two-step verification', level: 2 })).toBeVisible();
    const teachers = () =>
      leadPage.getByRole('group', { name: 'Require two-step verification for' }).getByLabel('Teachers', { exact: true });
    await expect(teachers()).not.toBeChecked();
    ruleOn = true;
    await requireFor(leadPage, ['Teachers']);
    await expect(teachers()).toBeChecked();
    await expectNoSeriousA11yViolations(leadPage, 'School settings with the rule saved');
    await screenshot(leadPage, 'mfa-required-1-school-settings', test.info());
    // The lead teacher is not held: her role is not ticked.
    await leadPage.goto('/home');
    await expect(leadPage).toHaveURL(/\/home$/);

    // The teacher signs in and lands on Account Settings > Two-step verification.
    const page = await teacherContext.newPage();
    await page.goto('/signin');
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Username', { exact: true }).fill(teacher.username);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByLabel('Password', { exact: true }).fill(teacher.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/mfa$/);
    await expect(page.getByRole('heading', { name: 'Two-step verification', level: 1 })).toBeVisible();
    await expect(page.getByText('Off.', { exact: true })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'Two-step verification, held at enrolment');
    await screenshot(page, 'mfa-required-2-held', test.info());

    // Every other page leads back there; other API calls are refused.
    for (const path of ['/home', '/classes', '/account', '/account/password', '/account/email']) {
      await page.goto(path);
      await expect(page, `${path} while held`).toHaveURL(/\/account\/mfa$/);
    }
    const held = await teacherContext.request.get('/api/v1/classes');
    expect(held.status()).toBe(403);
    expect(((await held.json()) as { error: string }).error).toBe('mfa_enrolment_required');

    // Set up the authenticator app: the password again, the key from the page, a first code.
    await page.goto('/account/mfa');
    const setUp = page.getByRole('region', { name: 'Set up an authenticator app' });
    await setUp.getByLabel('Current password', { exact: true }).fill(teacher.password);
    await setUp.getByRole('button', { name: 'Continue', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Set up an authenticator app', level: 1 })).toBeVisible();
    const key = (await page.getByRole('figure', { name: 'Or type this key' }).locator('code').innerText()).trim();
    const app = authenticator(key);
    await page.getByLabel('Enter the 6-digit code from the app', { exact: true }).fill(app.generate());
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Two-step verification is on');
    mfaOn = true;
    const items = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await expect(items).toHaveCount(10);
    codes = (await items.allInnerTexts()).map((c) => c.trim());
    await screenshot(page, 'mfa-required-3-on', test.info());

    // Now the rest of keyward opens.
    await page.goto('/home');
    await expect(page).toHaveURL(/\/home$/);
    await expect(page.getByText(`Signed in as ${teacher.username}`).first()).toBeVisible();
    await page.goto('/classes');
    await expect(page).toHaveURL(/\/classes$/);
    expect((await teacherContext.request.get('/api/v1/classes')).status()).toBe(200);

    // Put everything back: nobody required, the teacher's app off; the
    // password alone signs the teacher in again.
    await clearRuleViaApi(lead.username, lead.password);
    ruleOn = false;
    await turnOffViaApi(teacher.username, teacher.password, codes);
    mfaOn = false;
    const after = await browser.newContext();
    try {
      await signIn(await after.newPage(), teacher.username, teacher.password);
    } finally {
      await after.close();
    }
  } finally {
    await leadContext.close();
    await teacherContext.close();
    if (ruleOn) {
      try {
        await clearRuleViaApi(lead.username, lead.password);
      } catch (err) {
        console.error(`could not clear the school's two-step rule: ${String(err)}`);
      }
    }
    if (mfaOn) {
      try {
        await turnOffViaApi(teacher.username, teacher.password, codes);
      } catch (err) {
        console.error(`could not turn two-step verification off for ${teacher.username}: ${String(err)}`);
      }
    }
  }
});
