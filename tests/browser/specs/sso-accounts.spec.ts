import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, ownSecondFactorViaApi, signIn, signOut } from '../lib/keyward';

// Someone who signs in only with their school's provider (issue 14.3), made
// the way such people are made: a newcomer signs in through the school's real
// OpenID provider (tests/oidc/provider.mjs, started by scripts/browser-test;
// its issuer in KEYWARD_OIDC_ISSUER), which may create learner accounts, and
// joins Class 4B with its class code. Then:
//   /classes                 the teacher sees "Signs in with <provider>" in
//                            the learner's row instead of "Reset password"
//   /users/{id}              section "Single sign-on" with "Unlink"
//   /users/{id}/sso-links/{provider}/unlink
//                            "Unlink … from …?", a warning that they will
//                            have no way to sign in, button "Unlink …"

const PROVIDER = 'Riverside login';
const issuer = process.env.KEYWARD_OIDC_ISSUER;
let providerId = '';
let school = '';
let classCode = '';

test.describe.configure({ mode: 'serial' });

/** An API session of a demo account: the request context and its CSRF token. */
async function apiSession(username: string): Promise<{ api: APIRequestContext; csrf: string }> {
  const account = demoAccount(username);
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  const signedIn = await api.post('/api/v1/session', { data: { username: account.username, password: account.password } });
  expect(signedIn.status(), `API sign-in of ${username}: ${await signedIn.text()}`).toBe(200);
  const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
  return { api, csrf };
}

/** The id of the person with `username`, as the lead teacher finds them. */
async function userId(username: string): Promise<string> {
  const { api } = await apiSession('demo.lead');
  try {
    const found = (await (await api.get(`/api/v1/users?q=${username}`)).json()) as { users: Array<{ id: string; username: string }> };
    const user = found.users.find((u) => u.username === username);
    expect(user, `${username} in the users list`).toBeTruthy();
    return user!.id;
  } finally {
    await api.dispose();
  }
}

test.beforeAll(async () => {
  expect(issuer, 'KEYWARD_OIDC_ISSUER: run the suite with scripts/browser-test').toBeTruthy();
  const { api, csrf } = await apiSession('demo.lead');
  const turnOff = await ownSecondFactorViaApi('demo.lead');
  try {
    const headers = { 'X-CSRF-Token': csrf };
    school = ((await (await api.get('/api/v1/me')).json()) as { school_id: string }).school_id;
    const classes = (await (await api.get('/api/v1/classes')).json()) as Array<{ id: string; name: string }>;
    const class4b = classes.find((c) => c.name === 'Class 4B');
    expect(class4b, 'the demo class').toBeTruthy();
    const code = await api.get(`/api/v1/classes/${class4b!.id}/class-code`);
    expect(code.status(), await code.text()).toBe(200);
    classCode = ((await code.json()) as { class_code: string }).class_code;
    const added = await api.post(`/api/v1/schools/${school}/sso-providers`, {
      headers,
      data: { name: PROVIDER, issuer, client_id: 'kw', client_secret: 'kw-secret', roles: ['learner'], jit_roles: ['learner'] },
    });
    expect(added.status(), await added.text()).toBe(201);
    providerId = ((await added.json()) as { id: string }).id;
  } finally {
    await turnOff();
    await api.dispose();
  }
});

// The specs after this one see a sign-in page without the provider.
test.afterAll(async () => {
  if (!providerId) return;
  const { api, csrf } = await apiSession('demo.lead');
  const turnOff = await ownSecondFactorViaApi('demo.lead');
  try {
    const removed = await api.delete(`/api/v1/schools/${school}/sso-providers/${providerId}`, { headers: { 'X-CSRF-Token': csrf } });
    expect(removed.status(), await removed.text()).toBe(204);
  } finally {
    await turnOff();
    await api.dispose();
  }
});

/** Signs `who` in at the school's provider, from keyward's first screen. */
async function signInThroughProvider(page: Page, who: string): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
  await page.getByLabel('Username').fill(who);
  await page.getByLabel('Password').fill('anything');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/home$/);
}

test('a newcomer signs in through the provider and joins Class 4B with its code', async ({ page }) => {
  await signInThroughProvider(page, 'alice');
  await page.getByLabel('Class code').fill(classCode);
  await page.getByRole('button', { name: 'Join class' }).click();
  await expect(page.getByRole('status')).toContainText('Class 4B');
  await signOut(page);
});

test('the teacher sees "Signs in with" instead of the password buttons', async ({ page }) => {
  const alice = await userId('alice');
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  await page.goto('/classes');
  const row = page.locator('tr', { hasText: 'alice' });
  await expect(row).toContainText(`Signs in with ${PROVIDER}`);
  await expect(row.getByRole('link', { name: /Reset password/ })).toHaveCount(0);
  const ben = page.locator('tr', { hasText: 'Ben Brown' });
  await expect(ben.getByRole('link', { name: /Reset password/ })).toHaveCount(1);
  await expectNoSeriousA11yViolations(page, 'class database with a single sign-on learner');

  await page.goto(`/learners/${alice}/password`);
  await expect(page.getByRole('status')).toContainText(`Signs in with ${PROVIDER}`);
  await expect(page.getByRole('button', { name: 'Generate new password' })).toHaveCount(0);
});

test('the lead teacher unlinks the provider after confirming', async ({ page }) => {
  const alice = await userId('alice');
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.goto(`/users/${alice}`);
  const section = page.getByRole('region', { name: 'Single sign-on' });
  await expect(section).toContainText(PROVIDER);
  await expect(section).toContainText('no keyward password');
  await section.getByRole('link', { name: /Unlink/ }).click();

  await expect(page).toHaveURL(new RegExp(`/users/${alice}/sso-links/${providerId}/unlink$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Unlink Riverside login from /);
  await expect(page.getByRole('alert')).toContainText('will have no way to sign in');
  await expectNoSeriousA11yViolations(page, 'unlink confirm page');
  await page.getByRole('button', { name: `Unlink ${PROVIDER}` }).click();

  await expect(page).toHaveURL(new RegExp(`/users/${alice}\\?no_way_in=1$`));
  await expect(page.getByRole('status')).toContainText('no other way to sign in now');
  await expect(page.getByRole('region', { name: 'Single sign-on' })).toHaveCount(0);
  // Their teacher can now give them a password.
  await expect(page.getByRole('link', { name: 'Reset password', exact: true })).toBeVisible();
  const { api } = await apiSession('demo.lead');
  try {
    const detail = (await (await api.get(`/api/v1/users/${alice}`)).json()) as { sso_links: unknown[] };
    expect(detail.sso_links).toEqual([]);
  } finally {
    await api.dispose();
  }
});
