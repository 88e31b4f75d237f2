import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import { changePasswordViaApi, demoAccount, newPassword, ownSecondFactorViaApi, signIn, signOut } from '../lib/keyward';
import { checkPage } from '../lib/walk';

// The page walk of the administrators' pages (issue 15), as each role that
// can open them: demo.admin (platform admin), demo.lead (lead teacher),
// demo.teacher (a learner's page), demo.parent (/children), a visitor (/sso,
// /dev/mail). `checkPage` looks at each at 1280 px and 390 px: no sideways
// scroll, no serious axe finding, no control under 24 px; screenshots in
// tests/browser/screenshots/walk_admin-*.png.
//
// Page contract walked here:
//   /users                 h1 "Users", .intro, table.stack; "No one matches these filters." (.empty)
//   /users/{id}            breadcrumbs Home › Users (or Class database for a teacher), section "Actions"
//   /users/{id}/{action}   a confirm page (.confirm) stating what happens; its answer (role=status),
//                          or a refusal (role=alert) with what to do next
//   /school                "Subscription management": .intro and shortcuts under headings
//   /school/settings       "School settings"; switching off asks first ("Keep them" cancels)
//   /schools/{id}/sso      "Single sign-on"; /remove is a confirm page
//   /children              each child with how to help; "No child is linked …" when none
//   /dev/mail              the development inbox (a second demo with mail in files)
//
// What it changes it undoes or makes new: demo.admin's and demo.lead's
// authenticator apps are turned off again, the provider is removed, the
// school's setting is left as it was; people it makes have random names.

const BASE_URL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';
const ISSUER = process.env.KEYWARD_OIDC_ISSUER;

test.describe.configure({ mode: 'serial' });

/** Five random letters and digits, for new usernames. */
function suffix(): string {
  return Math.random().toString(36).replace(/[^a-z0-9]/g, '').slice(0, 5).padEnd(5, 'x');
}

/** An API session: the request context and its CSRF header. */
interface Api {
  api: APIRequestContext;
  headers: { 'X-CSRF-Token': string };
}

async function apiSession(username: string, password: string, baseURL = BASE_URL): Promise<Api> {
  const api = await request.newContext({ baseURL });
  const signedIn = await api.post('/api/v1/session', { data: { username, password } });
  expect(signedIn.status(), `API sign-in of ${username}: ${await signedIn.text()}`).toBe(200);
  const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
  return { api, headers: { 'X-CSRF-Token': csrf } };
}

async function asDemo(username: string): Promise<Api> {
  const account = demoAccount(username);
  return apiSession(account.username, account.password);
}

async function schoolId(): Promise<string> {
  const { api } = await asDemo('demo.lead');
  try {
    return ((await (await api.get('/api/v1/me')).json()) as { school_id: string }).school_id;
  } finally {
    await api.dispose();
  }
}

/** The id of `username`, as the platform admin finds them (while the lead
 * teacher has a second factor, their API sign-in would stop at it). */
async function userId(username: string): Promise<string> {
  const { api } = await asDemo('demo.admin');
  try {
    const found = (await (await api.get(`/api/v1/users?q=${encodeURIComponent(username)}`)).json()) as {
      users: Array<{ id: string; username: string }>;
    };
    const user = found.users.find((u) => u.username === username);
    expect(user, `${username} in the users list`).toBeTruthy();
    return user!.id;
  } finally {
    await api.dispose();
  }
}

/** A person the lead teacher adds (pending, with an access code). */
async function addPerson(person: Record<string, unknown>): Promise<{ id: string; access_code: string }> {
  const { api, headers } = await asDemo('demo.lead');
  try {
    const created = await api.post('/api/v1/users', { headers, data: { school_id: await schoolId(), ...person } });
    expect(created.status(), await created.text()).toBe(201);
    return (await created.json()) as { id: string; access_code: string };
  } finally {
    await api.dispose();
  }
}

/** Uses an access code through the API. */
async function activate(code: string, username: string, password: string, email?: string): Promise<void> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const done = await api.post('/api/v1/activate', { data: { code, username, password, ...(email ? { email } : {}) } });
    expect(done.status(), await done.text()).toBe(201);
  } finally {
    await api.dispose();
  }
}

/** Turns on an authenticator app for any account through the API. */
async function secondFactorViaApi(username: string, password: string): Promise<void> {
  const { api, headers } = await apiSession(username, password);
  try {
    const started = await api.post('/api/v1/me/mfa/totp', { headers, data: { password } });
    expect(started.status(), await started.text()).toBe(200);
    const { secret } = (await started.json()) as { secret: string };
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, '')), digits: 6, period: 30 }).generate();
    const confirmed = await api.post('/api/v1/me/mfa/totp/confirm', { headers, data: { code } });
    expect(confirmed.status(), await confirmed.text()).toBe(200);
  } finally {
    await api.dispose();
  }
}

/** The breadcrumbs' link names, in order. */
async function crumbs(page: Page): Promise<string[]> {
  const links = await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link').allTextContents();
  return links.map((l) => l.trim());
}

/** Every breadcrumb opens (no dead end), checked with the page's own cookies. */
async function crumbsOpen(page: Page): Promise<void> {
  const hrefs = await page
    .getByRole('navigation', { name: 'Breadcrumb' })
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  for (const href of hrefs) {
    const answer = await page.request.get(href);
    expect(answer.status(), `breadcrumb ${href} of ${page.url()}`).toBe(200);
  }
}

const shot = (name: string) => `admin-${name}`;

test('platform admin: users, a person, each action confirmed with its answer or refusal, the audit log', async ({ page }) => {
  test.setTimeout(240_000);
  const admin = demoAccount('demo.admin');
  // A teacher of the school's own, so no demo account is touched.
  const tag = suffix();
  const teacher = { username: `walk.t${tag}`, password: newPassword('Walk'), email: `walk.t${tag}@riverside.example` };
  const created = await addPerson({ first_name: 'Wren', last_name: `Walker-Longsurname-${tag}`, role: 'teacher' });
  await activate(created.access_code, teacher.username, teacher.password, teacher.email);
  const pending = await addPerson({ first_name: 'Pim', last_name: `Pending-${tag}`, role: 'learner' });
  const person = `/users/${created.id}`;

  await signIn(page, admin.username, admin.password);
  let turnOff: (() => Promise<void>) | undefined;
  try {
    await page.goto('/users');
    await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
    await expect(page.locator('.intro')).toContainText('in every school');
    await checkPage(page, shot('users'), test.info());
    await page.goto('/users?q=zz-nobody-here');
    await expect(page.locator('.empty')).toContainText('No one matches these filters.');
    await checkPage(page, shot('users-empty'), test.info());
    await page.goto('/users?status=asleep');
    await expect(page.locator('#status-error')).toBeVisible();
    await expect(page.getByLabel('Status', { exact: true })).toBeFocused();
    await checkPage(page, shot('users-bad-filter'), test.info());

    // Add a person, refused under the field at fault.
    await page.goto('/users/new');
    expect(await crumbs(page)).toEqual(['Home', 'Users']);
    await checkPage(page, shot('add-person'), test.info());
    await page.getByLabel('First name', { exact: true }).fill('Nia');
    await page.getByLabel('Last name', { exact: true }).fill('Noemail');
    await page.getByLabel('Email address (optional)', { exact: true }).fill('not an address');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.locator('#email-error')).toBeVisible();
    await expect(page.getByLabel('Email address (optional)', { exact: true })).toBeFocused();
    await checkPage(page, shot('add-person-refused'), test.info());

    // The person, and Reset Password refused: no second factor of one's own.
    await page.goto(person);
    expect(await crumbs(page)).toEqual(['Home', 'Users']);
    await crumbsOpen(page);
    await checkPage(page, shot('person'), test.info());
    await page.getByRole('link', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Turn on two-step verification on your own account first');
    await expect(page.getByRole('link', { name: 'Turn on two-step verification', exact: true })).toBeVisible();
    expect(await crumbs(page)).toEqual(['Home', 'Users', `Wren Walker-Longsurname-${tag}`]);
    await crumbsOpen(page);
    await checkPage(page, shot('refused-mfa'), test.info());

    turnOff = await ownSecondFactorViaApi('demo.admin');
    // Never signed in: no link can go; a temporary password is offered.
    await page.goto(`${person}/password-reset`);
    await expect(page.getByRole('alert')).toContainText('never signed in');
    await checkPage(page, shot('refused-never-signed-in'), test.info());
    await (await apiSession(teacher.username, teacher.password)).api.dispose();

    await page.goto(`${person}/password-reset`);
    await expect(page.locator('.confirm')).toContainText('Nothing changes until they use it');
    await checkPage(page, shot('reset-link-confirm'), test.info());
    await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('is on its way');
    await checkPage(page, shot('reset-link-done'), test.info());

    await page.goto(`${person}/temporary-password`);
    await expect(page.locator('.confirm')).toContainText('stops working now');
    await checkPage(page, shot('temporary-confirm'), test.info());
    await page.getByRole('button', { name: 'Set a temporary password', exact: true }).click();
    await expect(page.locator('#temporary-password')).toBeVisible();
    await checkPage(page, shot('temporary-done'), test.info());

    // They choose their own password and turn on an authenticator app, then
    // lose it: their two-step verification is removed; asked again, nothing is left.
    const temporary = (await page.locator('#temporary-password').innerText()).trim();
    const own = newPassword('Walk');
    await changePasswordViaApi(teacher.username, temporary, own);
    await secondFactorViaApi(teacher.username, own);
    await page.goto(person);
    await page.getByRole('link', { name: 'Reset two-step verification', exact: true }).click();
    await expect(page.locator('.confirm')).toContainText('signed out everywhere now');
    await checkPage(page, shot('mfa-reset-confirm'), test.info());
    await page.getByRole('button', { name: 'Reset two-step verification', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Two-step verification was removed');
    await checkPage(page, shot('mfa-reset-done'), test.info());
    await page.goto(`${person}/mfa-reset`);
    await page.getByRole('button', { name: 'Reset two-step verification', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('no two-step verification to remove');
    await checkPage(page, shot('mfa-reset-refused'), test.info());

    // Disable, confirmed; the person's page says so; enable again.
    await page.goto(person);
    await page.getByRole('region', { name: 'Actions' }).getByRole('link', { name: 'Disable account', exact: true }).click();
    await expect(page.locator('.confirm')).toContainText('sessions end now');
    expect(await crumbs(page)).toEqual(['Home', 'Users', `Wren Walker-Longsurname-${tag}`]);
    await checkPage(page, shot('disable-confirm'), test.info());
    await page.getByRole('button', { name: 'Disable account', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('The account is disabled.');
    await expect(page.locator('.facts .badge')).toHaveText('Disabled');
    await checkPage(page, shot('person-disabled'), test.info());
    await page.getByRole('button', { name: 'Enable account', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('enabled again');

    // A pending person: a new access code, confirmed first.
    await page.goto(`/users/${pending.id}`);
    await checkPage(page, shot('person-pending'), test.info());
    await page.getByRole('link', { name: 'Issue a new access code', exact: true }).click();
    await expect(page.locator('.confirm')).toContainText('stops working at once');
    await checkPage(page, shot('reissue-confirm'), test.info());
    await page.getByRole('button', { name: 'Issue a new access code', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('A new access code was issued');

    // The audit log: everything above is in it.
    await page.goto('/audit');
    await expect(page.locator('.intro')).toBeVisible();
    await checkPage(page, shot('audit'), test.info());
    await page.goto(`/audit?person=${teacher.username}&action=admin.`);
    await expect(page.getByRole('table', { name: 'Audit log entries' }).locator('tbody tr').first()).toBeVisible();
    await checkPage(page, shot('audit-filtered'), test.info());
    await page.goto('/audit?person=nobody.at.all');
    await expect(page.locator('.empty')).toContainText('No entries match these filters.');
    await checkPage(page, shot('audit-empty'), test.info());
    await page.goto('/audit?from=2026-02-30');
    await expect(page.locator('#from-error')).toBeVisible();
    await checkPage(page, shot('audit-bad-filter'), test.info());

    // A school's single sign-on, for a platform admin: back goes home.
    await page.goto(`/schools/${await schoolId()}/sso`);
    expect(await crumbs(page)).toEqual(['Home']);
    await checkPage(page, shot('sso'), test.info());
  } finally {
    if (turnOff) await turnOff();
  }
  await signOut(page);
});

test('lead teacher: the school hub, settings asking before a switch-off, single sign-on, a learner, the audit log', async ({ page, browser }) => {
  test.setTimeout(240_000);
  const lead = demoAccount('demo.lead');
  const school = await schoolId();
  await signIn(page, lead.username, lead.password);

  await page.goto('/school');
  await expect(page.getByRole('heading', { name: 'Subscription management', level: 1 })).toBeVisible();
  await expect(page.locator('.intro')).toContainText("Riverside Primary School's hub");
  for (const heading of ['People', 'Classes', 'Passwords and sign-in', 'Exports and records']) {
    await expect(page.getByRole('heading', { name: heading, level: 2 })).toBeVisible();
  }
  await checkPage(page, shot('lead-hub'), test.info());

  // School settings: switching off learner passwords asks first; Keep them changes nothing.
  await page.getByRole('link', { name: 'School settings', exact: true }).click();
  expect(await crumbs(page)).toEqual(['Home', 'Subscription management']);
  await checkPage(page, shot('lead-settings'), test.info());
  const keep = page.getByLabel('Keep copies of learner passwords that staff set, so they can be shown again');
  await expect(keep).toBeChecked();
  await keep.uncheck();
  await page.locator('form[action="/school/settings"]').getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Stop keeping learner passwords?', level: 1 })).toBeVisible();
  await checkPage(page, shot('lead-settings-confirm'), test.info());
  await page.getByRole('link', { name: 'Keep them', exact: true }).click();
  await expect(page.getByLabel('Keep copies of learner passwords that staff set, so they can be shown again')).toBeChecked();

  // Single sign-on: empty, refused without a second factor, a refused field, a provider, its removal.
  await page.goto(`/schools/${school}/sso`);
  await expect(page.locator('.empty')).toContainText('No provider is connected yet.');
  await checkPage(page, shot('lead-sso-empty'), test.info());
  const name = 'Riverside walk';
  const fill = async (issuer: string) => {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Issuer', { exact: true }).fill(issuer);
    await page.getByLabel('Client ID', { exact: true }).fill('kw');
    await page.getByLabel('Client secret', { exact: true }).fill('kw-secret');
    await page.getByRole('button', { name: 'Add provider', exact: true }).click();
  };
  await fill(ISSUER ?? 'https://accounts.google.com');
  await expect(page.getByText('Turn on two-step verification on your own account first')).toBeVisible();
  await checkPage(page, shot('lead-sso-refused-mfa'), test.info());
  let turnOff: (() => Promise<void>) | undefined = await ownSecondFactorViaApi('demo.lead');
  try {
    await fill('ftp://nowhere');
    await expect(page.locator('#sso-issuer-error')).toBeVisible();
    await expect(page.getByLabel('Issuer', { exact: true })).toBeFocused();
    await checkPage(page, shot('lead-sso-refused-field'), test.info());
    expect(ISSUER, 'KEYWARD_OIDC_ISSUER: run the suite with scripts/browser-test').toBeTruthy();
    await page.getByRole('radio', { name: /^Verified email address/ }).check();
    await page.getByLabel('Learner', { exact: true }).check();
    await fill(ISSUER!);
    await expect(page.getByRole('status')).toContainText('Provider connected');
    await checkPage(page, shot('lead-sso-provider'), test.info());

    // Someone signs in through it, so a person has a link to unlink.
    const visitor = await browser.newContext();
    try {
      const anon = await visitor.newPage();
      await anon.goto('/signin');
      await anon.getByRole('link', { name: `Sign in with ${name}` }).click();
      await anon.getByLabel('Username').fill('alice');
      await anon.getByLabel('Password').fill('anything');
      await anon.getByRole('button', { name: 'Sign in' }).click();
      await expect(anon).toHaveURL(/\/home$/);
    } finally {
      await visitor.close();
    }
    const alice = await userId('alice');
    await page.goto(`/users/${alice}`);
    await checkPage(page, shot('lead-person-sso'), test.info());
    await page.getByRole('region', { name: 'Single sign-on' }).getByRole('link', { name: /Unlink/ }).click();
    await expect(page.locator('.confirm')).toContainText('sessions end now');
    await crumbsOpen(page);
    await checkPage(page, shot('lead-unlink-confirm'), test.info());
    await page.getByRole('link', { name: 'Keep it linked', exact: true }).click();

    await page.goto(`/schools/${school}/sso`);
    await page.locator('table.sso-providers tbody tr', { hasText: name }).getByRole('link', { name: 'Remove' }).click();
    expect(await crumbs(page)).toEqual(['Home', 'Subscription management', 'Single sign-on']);
    await checkPage(page, shot('lead-sso-remove-confirm'), test.info());
    await page.getByRole('button', { name: 'Remove provider', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('Provider removed');
  } finally {
    await turnOff();
    turnOff = undefined;
  }

  // A learner's page, and its confirm step.
  const amy = await userId('demo.amy');
  await page.goto(`/users/${amy}`);
  await expect(page.getByRole('link', { name: 'Reset password', exact: true })).toBeVisible();
  await checkPage(page, shot('lead-learner'), test.info());
  await page.goto(`/users/${amy}/disable`);
  await checkPage(page, shot('lead-disable-confirm'), test.info());
  await page.getByRole('link', { name: 'Keep it active', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${amy}$`));

  await page.goto('/users');
  await checkPage(page, shot('lead-users'), test.info());
  await page.goto('/audit?action=sign_in');
  await checkPage(page, shot('lead-audit'), test.info());
  await signOut(page);
});

test("teacher: a learner's page leads back to the class database", async ({ page }) => {
  const teacher = demoAccount('demo.teacher');
  const amy = await userId('demo.amy');
  await signIn(page, teacher.username, teacher.password);
  await page.goto(`/users/${amy}`);
  expect(await crumbs(page)).toEqual(['Home', 'Class database']);
  await crumbsOpen(page);
  await checkPage(page, shot('teacher-learner'), test.info());
  await signOut(page);
});

test('parent: each child with how to help, a refused code under its field, and a parent with none linked', async ({ page }) => {
  const parent = demoAccount('demo.parent');
  await signIn(page, parent.username, parent.password);
  await page.goto('/children');
  const amy = page.locator('li.child', { hasText: 'Amy Adams' });
  await expect(amy).toContainText('demo.amy');
  await expect(amy).toContainText('/signin');
  await checkPage(page, shot('parent-children'), test.info());
  await page.getByLabel('Parent access code', { exact: true }).fill('WRONG-CODE-99');
  await page.getByRole('button', { name: 'Link child', exact: true }).click();
  await expect(page.locator('#parent_access_code-error')).toBeVisible();
  await expect(page.getByLabel('Parent access code', { exact: true })).toBeFocused();
  await checkPage(page, shot('parent-wrong-code'), test.info());
  await signOut(page);

  const tag = suffix();
  const pip = { username: `walk.p${tag}`, password: newPassword('Parent') };
  const made = await addPerson({ first_name: 'Pip', last_name: `Parent-${tag}`, role: 'parent' });
  await activate(made.access_code, pip.username, pip.password, `${pip.username}@family.example`);
  await signIn(page, pip.username, pip.password);
  await page.goto('/children');
  await expect(page.locator('.empty')).toContainText('No child is linked to your account yet.');
  await checkPage(page, shot('parent-none'), test.info());
  await signOut(page);
});

/** A free port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

test('a visitor: /sso, and /dev/mail of a demo that keeps mail in files', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/sso');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await checkPage(page, shot('sso-choices'), test.info());

  // The suite's server sends mail over SMTP, so its /dev/mail is off: a
  // second demo on SQLite keeps mail in files and shows it.
  const binary = process.env.KEYWARD_BIN ?? path.resolve(__dirname, '../../../target/debug/keyward');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-devmail-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEYWARD_')));
  Object.assign(env, {
    KEYWARD_SERVER__DATA_DIR: dataDir,
    KEYWARD_SERVER__BIND: `127.0.0.1:${port}`,
    KEYWARD_SERVER__PUBLIC_URL: url,
    KEYWARD_MAIL__POLL_INTERVAL: '1s',
  });
  const server: ChildProcess = spawn(binary, ['demo'], { env, stdio: 'ignore' });
  try {
    const api = await request.newContext({ baseURL: url });
    await expect
      .poll(async () => (await api.get('/readyz').catch(() => null))?.status() ?? 0, { timeout: 60_000 })
      .toBe(200);
    await expect.poll(() => fs.existsSync(path.join(dataDir, 'demo-accounts.txt')), { timeout: 30_000 }).toBe(true);
    await page.goto(`${url}/dev/mail`);
    await expect(page.locator('.empty')).toContainText('No mail yet.');
    await checkPage(page, shot('dev-mail-empty'), test.info());

    // demo.lead signs in once, then asks for a reset link: one message.
    const line = fs
      .readFileSync(path.join(dataDir, 'demo-accounts.txt'), 'utf8')
      .split('\n')
      .find((l) => l.includes(' demo.lead '));
    const password = line!.trim().split(/\s+/)[2];
    await (await apiSession('demo.lead', password, url)).api.dispose();
    const asked = await api.post('/api/v1/recovery', { data: { username: 'demo.lead' } });
    expect(asked.status()).toBe(202);
    await expect
      .poll(async () => (await (await api.get('/dev/mail')).text()).includes('/dev/mail/'), { timeout: 30_000 })
      .toBe(true);
    await api.dispose();
    await page.goto(`${url}/dev/mail`);
    await checkPage(page, shot('dev-mail'), test.info());
    await page.locator('table.mail-list tbody tr').first().getByRole('link').click();
    await expect(page.locator('pre.mail-text a').first()).toBeVisible();
    expect(await crumbs(page)).toEqual(['Captured mail']);
    await checkPage(page, shot('dev-mail-message'), test.info());
  } finally {
    server.kill('SIGTERM');
    await new Promise((done) => server.once('exit', done));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
