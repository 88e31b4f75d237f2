import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, ownSecondFactorViaApi } from '../lib/keyward';

// Single sign-on through a real OpenID provider (tests/oidc/provider.mjs,
// started by scripts/browser-test; its issuer in KEYWARD_OIDC_ISSUER). The
// demo school's lead teacher connects it through the API, allowing
// just-in-time learner accounts; the person signs in at the provider's own
// login page and lands on /home.

const issuer = process.env.KEYWARD_OIDC_ISSUER;
let providerId = '';

/** A signed-in API context of the demo school's lead teacher. */
async function asLead(): Promise<{ api: APIRequestContext; csrf: string; school: string }> {
  const lead = demoAccount('demo.lead');
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  const signIn = await api.post('/api/v1/session', { data: { username: lead.username, password: lead.password } });
  expect(signIn.status(), await signIn.text()).toBe(200);
  const { csrf_token: csrf } = (await signIn.json()) as { csrf_token: string };
  const me = (await (await api.get('/api/v1/me')).json()) as { school_id: string };
  return { api, csrf, school: me.school_id };
}

// The specs after this one see a sign-in page without the provider.
test.afterAll(async () => {
  if (!providerId) return;
  const { api, csrf, school } = await asLead();
  const turnOff = await ownSecondFactorViaApi('demo.lead');
  try {
    const removed = await api.delete(`/api/v1/schools/${school}/sso-providers/${providerId}`, {
      headers: { 'X-CSRF-Token': csrf },
    });
    expect(removed.status()).toBe(204);
  } finally {
    await turnOff();
    await api.dispose();
  }
});

test.beforeAll(async () => {
  expect(issuer, 'KEYWARD_OIDC_ISSUER: run the suite with scripts/browser-test').toBeTruthy();
  const { api, csrf, school } = await asLead();
  const turnOff = await ownSecondFactorViaApi('demo.lead');
  try {
    const added = await api.post(`/api/v1/schools/${school}/sso-providers`, {
      headers: { 'X-CSRF-Token': csrf },
      data: {
        name: 'Test provider',
        issuer,
        client_id: 'kw',
        client_secret: 'kw-secret',
        jit_roles: ['learner'],
      },
    });
    expect(added.status(), `connect the provider: ${await added.text()}`).toBe(201);
    providerId = ((await added.json()) as { id: string }).id;
  } finally {
    await turnOff();
    await api.dispose();
  }
});

/** From keyward's first screen to the provider's login page. */
async function toProvider(page: Page): Promise<void> {
  await page.goto('/signin');
  const button = page.getByRole('link', { name: /Sign in with Test provider/ })
    .or(page.getByRole('button', { name: /Sign in with Test provider/ }));
  if (await button.count()) {
    await button.first().click();
  } else {
    await page.goto(`/sso/${providerId}/start`);
  }
  await expect(page.getByRole('heading', { name: 'Test provider' })).toBeVisible();
}

test('a person signs in through the school provider and lands on home', async ({ page }) => {
  await toProvider(page);
  await page.getByLabel('Username').fill('zed');
  await page.getByLabel('Password').fill('anything');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByRole('heading', { name: 'Hello, zed' })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'home after single sign-on');
});

test('an unverified email is refused with a page that says what to do', async ({ page }) => {
  await toProvider(page);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill('anything');
  const answer = page.waitForResponse((r) => r.url().includes('/sso/callback'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  expect((await answer).status()).toBe(401);
  await expect(page.getByRole('alert')).toContainText('has not confirmed your email address');
  await expect(page.getByText('sso_unknown_person')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sign in with your keyward username and password' })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'single sign-on refused');
  await page.goto('/home');
  await expect(page).toHaveURL(/\/signin/);
});
