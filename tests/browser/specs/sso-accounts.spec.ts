import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { expect, request, test, type APIRequestContext } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, signIn } from '../lib/keyward';

// Someone who signs in only with their school's provider (issue 14.3):
//   /classes                 the teacher sees "Signs in with <provider>" in
//                            the learner's row instead of "Reset password"
//   /users/{id}              section "Single sign-on" with "Unlink"
//   /users/{id}/sso-links/{provider}/unlink
//                            "Unlink … from …?", a warning that they will
//                            have no way to sign in, button "Unlink …"
//
// A new learner of Class 4B (Sam Sterling, made through the API, so the
// demo's own people are left alone) is linked to a provider and loses their
// keyward password, as a person made by single sign-on has none. A link is
// made only by signing in through a provider, so it is written straight into
// the demo's SQLite database (the spec is skipped on PostgreSQL); the
// provider is connected through the API when it exists, else written there
// too, and removed afterwards.

const PROVIDER = 'Riverside Google';
const dataDir = path.dirname(process.env.KEYWARD_DEMO_ACCOUNTS ?? '.');
const database = path.join(dataDir, 'keyward.db');
let providerId = '';
let providerRow = false;
let sam = '';

function sql(statement: string): string {
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', database, statement], { encoding: 'utf8' }).trim();
}

function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** An API session of a demo account: the request context and its CSRF token. */
async function apiSession(username: string): Promise<{ api: APIRequestContext; csrf: string }> {
  const account = demoAccount(username);
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  const signedIn = await api.post('/api/v1/session', { data: { username: account.username, password: account.password } });
  expect(signedIn.status(), `API sign-in of ${username}: ${await signedIn.text()}`).toBe(200);
  const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
  return { api, csrf };
}

test.beforeAll(async () => {
  test.skip(!fs.existsSync(database), 'needs the demo on SQLite (scripts/browser-test without a database URL)');
  const { api, csrf } = await apiSession('demo.lead');
  try {
    const headers = { 'X-CSRF-Token': csrf };
    const me = (await (await api.get('/api/v1/me')).json()) as { school_id: string };
    const classes = (await (await api.get('/api/v1/classes')).json()) as Array<{ id: string; name: string }>;
    const class4b = classes.find((c) => c.name === 'Class 4B');
    expect(class4b, 'the demo class').toBeTruthy();

    // Sam, a learner of Class 4B with a username and a password of their own.
    const created = await api.post('/api/v1/users', {
      headers,
      data: { first_name: 'Sam', last_name: 'Sterling', role: 'learner', school_id: me.school_id, class_ids: [class4b!.id] },
    });
    expect(created.status(), await created.text()).toBe(201);
    const { id, access_code: code } = (await created.json()) as { id: string; access_code: string };
    sam = id;
    const activated = await api.post('/api/v1/activate', {
      data: { code, username: `sam.sterling.${Date.now()}`, password: `SsoSpec${Date.now()}x` },
    });
    expect(activated.status(), await activated.text()).toBeLessThan(300);

    // The provider: through the API when there is one, else as a row.
    const added = await api.post(`/api/v1/schools/${me.school_id}/sso-providers`, {
      headers,
      data: { name: PROVIDER, issuer: 'https://accounts.google.com', client_id: 'kw', client_secret: 'kw-secret', roles: ['learner'] },
    });
    if (added.status() === 201) {
      providerId = ((await added.json()) as { id: string }).id;
    } else {
      providerId = randomUUID();
      providerRow = true;
      sql(
        `INSERT INTO sso_providers (id, school_id, name, issuer, client_id, secret_sealed_id, scopes, claim, roles, jit_roles, trust_mfa, created_at)
         VALUES (${quoted(providerId)}, ${quoted(me.school_id)}, ${quoted(PROVIDER)}, 'https://accounts.google.com', 'kw',
                 'no-secret', 'openid email profile', 'email', 'learner', '', 0, strftime('%s','now'))`,
      );
    }
    await api.delete('/api/v1/session', { headers });
  } finally {
    await api.dispose();
  }
  // Linked, and without a keyward password: SSO-only.
  sql(
    `INSERT INTO sso_links (provider_id, subject, user_id, linked_at) VALUES (${quoted(providerId)}, 'sam-at-google', ${quoted(sam)}, strftime('%s','now'));
     UPDATE users SET password_hash = NULL, password_sealed_id = NULL, password_set_by = NULL WHERE id = ${quoted(sam)};`,
  );
});

test.afterAll(async () => {
  if (!fs.existsSync(database) || !providerId) return;
  if (providerRow) {
    sql(`DELETE FROM sso_providers WHERE id = ${quoted(providerId)}`);
    return;
  }
  const { api, csrf } = await apiSession('demo.lead');
  try {
    const me = (await (await api.get('/api/v1/me')).json()) as { school_id: string };
    await api.delete(`/api/v1/schools/${me.school_id}/sso-providers/${providerId}`, { headers: { 'X-CSRF-Token': csrf } });
  } finally {
    await api.dispose();
  }
});

test('the teacher sees "Signs in with" instead of the password buttons', async ({ page }) => {
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  await page.goto('/classes');
  const row = page.locator('tr', { hasText: 'Sam Sterling' });
  await expect(row).toContainText(`Signs in with ${PROVIDER}`);
  await expect(row.getByRole('link', { name: /Reset password/ })).toHaveCount(0);
  const ben = page.locator('tr', { hasText: 'Ben Brown' });
  await expect(ben.getByRole('link', { name: /Reset password/ })).toHaveCount(1);
  await expectNoSeriousA11yViolations(page, 'class database with a single sign-on learner');

  await page.goto(`/learners/${sam}/password`);
  await expect(page.getByRole('status')).toContainText(`Signs in with ${PROVIDER}`);
  await expect(page.getByRole('button', { name: 'Generate new password' })).toHaveCount(0);
});

test('the lead teacher unlinks the provider after confirming', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.goto(`/users/${sam}`);
  const section = page.getByRole('region', { name: 'Single sign-on' });
  await expect(section).toContainText(PROVIDER);
  await expect(section).toContainText('no keyward password');
  await section.getByRole('link', { name: /Unlink/ }).click();

  await expect(page).toHaveURL(new RegExp(`/users/${sam}/sso-links/${providerId}/unlink$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Unlink ${PROVIDER} from Sam Sterling?`);
  await expect(page.getByRole('alert')).toContainText('Sam Sterling will have no way to sign in');
  await expectNoSeriousA11yViolations(page, 'unlink confirm page');
  await page.getByRole('button', { name: `Unlink ${PROVIDER}` }).click();

  await expect(page).toHaveURL(new RegExp(`/users/${sam}\\?no_way_in=1$`));
  await expect(page.getByRole('status')).toContainText('no other way to sign in now');
  await expect(page.getByRole('region', { name: 'Single sign-on' })).toHaveCount(0);
  // Their teacher can now give them a password.
  await expect(page.getByRole('link', { name: 'Reset password', exact: true })).toBeVisible();
  expect(sql(`SELECT COUNT(*) FROM sso_links WHERE user_id = ${quoted(sam)}`)).toBe('0');
});
