import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import { demoAccount, mainMenu, signIn } from '../lib/keyward';
import { checkPage } from '../lib/walk';

// The walk of issue 15 over the home pages and Account Settings: each page
// (and each form's answer) is looked at by checkPage at 1280 and 390 px (no
// sideways scroll, no serious axe finding, no target under 24 px,
// screenshots walk_home-*.png and walk_account-*.png), and the dashboards'
// content is asserted against the pages it summarises:
//   /home (teacher)      "Your classes": a tile per class, "N learners", the class code,
//                        links "User accounts", "Show access codes", "Reset password for the whole class"
//   /home (lead teacher) "Your school": tiles Classes, Learners, Teachers, Parents, Not activated yet;
//                        "Your classes"; "Shortcuts" (Class database … Audit log)
//   /home (admin)        "Schools": a row per school (Classes … Not activated yet), "People", "Single sign-on"
//   /home (learner)      "Your classes" (Class 4B with its teachers), "Account Settings", "Join another class"
//   /home (parent)       "Your children": a tile per child (username, class and teachers), "Link another child"
//   the menu             aria-current="page" on the page shown, "true" inside its section
//   Account Settings     every section, its confirm pages (Turn off two-step verification, Sign out
//                        other sessions, Revoke a token, Remove a passkey) and its forms' answers
// The suite shares one demo server, and this spec runs twice on one server:
// everything it turns on (two-step verification, a passkey, a token) it turns
// off again, also when it fails half-way.

const CLASS = 'Class 4B';

/** The region of a heading-labelled section of the page. */
function section(page: Page, name: string): Locator {
  return page.getByRole('region', { name, exact: true });
}

/** The number in the tile (or row) that `label` names. */
async function tileNumber(tile: Locator): Promise<number> {
  return Number((await tile.locator('.number').first().innerText()).trim());
}

interface ClassBody {
  id: string;
  school_id: string;
  name: string;
  learner_count: number;
}

/** The class database through the JSON API, with the page's own session. */
async function classDatabase(page: Page, query = ''): Promise<ClassBody[]> {
  const reply = await page.request.get(`/api/v1/classes${query}`);
  expect(reply.status(), await reply.text()).toBe(200);
  return (await reply.json()) as ClassBody[];
}

test.describe('home pages', () => {
  test('the teacher sees Class 4B with its learners counted and the class actions', async ({ page }) => {
    const teacher = demoAccount('demo.teacher');
    await signIn(page, teacher.username, teacher.password);
    const menu = await mainMenu(page);
    await expect(menu.getByRole('link', { name: 'Home', exact: true })).toHaveAttribute('aria-current', 'page');
    const classes = section(page, 'Your classes');
    const tile = classes.getByRole('listitem').filter({ has: page.getByRole('heading', { name: CLASS }) });
    await expect(tile).toHaveCount(1);
    await expect(classes.getByRole('heading', { name: 'Class 5C' })).toHaveCount(0);
    await expect(tile.locator('.class-code')).toHaveText(/^[A-Z2-9]{6}$/);
    const counted = await tileNumber(tile);
    for (const link of ['User accounts', 'Show access codes', 'Reset password for the whole class']) {
      await expect(tile.getByRole('link', { name: link, exact: true })).toHaveAttribute('href', /^\/classes\/[0-9a-f-]{36}\//);
    }
    await checkPage(page, 'home-teacher', test.info());

    const listed = (await classDatabase(page)).find((c) => c.name === CLASS)!;
    expect(counted).toBe(listed.learner_count);
    await page.goto('/classes');
    await expect((await mainMenu(page)).getByRole('link', { name: 'Class database', exact: true })).toHaveAttribute('aria-current', 'page');
    // The whole-class reset opens from the tile, and the menu marks its section.
    await page.goto('/home');
    await tile.getByRole('link', { name: 'Reset password for the whole class' }).click();
    await expect(page).toHaveURL(/\/classes\/[0-9a-f-]{36}\/password-reset$/);
    await expect((await mainMenu(page)).getByRole('link', { name: 'Class database', exact: true })).toHaveAttribute('aria-current', 'true');
  });

  test('the lead teacher sees the school in numbers, her classes and the shortcuts', async ({ page }) => {
    const lead = demoAccount('demo.lead');
    await signIn(page, lead.username, lead.password);
    const school = section(page, 'Your school');
    const tile = (label: string) => school.getByRole('listitem').filter({ has: page.getByRole('link', { name: label, exact: true }) });
    for (const label of ['Classes', 'Learners', 'Teachers', 'Parents', 'Not activated yet']) {
      await expect(tile(label)).toHaveCount(1);
      await expect(tile(label).locator('.number')).toHaveText(/^\d+$/);
    }
    expect(await tileNumber(tile('Teachers'))).toBeGreaterThanOrEqual(2);
    const classCount = await tileNumber(tile('Classes'));
    const classes = section(page, 'Your classes');
    await expect(classes.getByRole('heading', { name: CLASS })).toBeVisible();
    await expect(classes.getByRole('heading', { name: 'Class 5C' })).toBeVisible();
    const shortcuts = section(page, 'Shortcuts');
    for (const label of ['Class database', 'Student database', 'Users', 'Subscription management', 'Single sign-on', 'Import learners', 'Audit log']) {
      await expect(shortcuts.getByRole('link', { name: label, exact: true })).toBeVisible();
    }
    await checkPage(page, 'home-lead', test.info());
    expect(classCount).toBe((await classDatabase(page)).length);
  });

  test('the platform admin sees every school with its numbers', async ({ page }) => {
    const admin = demoAccount('demo.admin');
    await signIn(page, admin.username, admin.password);
    const schools = section(page, 'Schools');
    const row = schools.getByRole('row').filter({ hasText: 'Riverside Primary School' });
    await expect(row).toHaveCount(1);
    for (const column of ['Classes', 'Learners', 'Teachers', 'Parents', 'Not activated yet']) {
      await expect(schools.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
    }
    await expect(row.getByRole('cell').nth(0)).toHaveText(/^\d+$/);
    await expect(row.getByRole('link', { name: 'People' })).toHaveAttribute('href', /^\/users\?school_id=/);
    await expect(row.getByRole('link', { name: 'Single sign-on' })).toHaveAttribute('href', /^\/schools\/[0-9a-f-]{36}\/sso$/);
    await expect(section(page, 'Shortcuts').getByRole('link', { name: 'Audit log', exact: true })).toBeVisible();
    const classes = Number((await row.getByRole('cell').nth(0).innerText()).trim());
    const sso = await row.getByRole('link', { name: 'Single sign-on' }).getAttribute('href');
    const schoolId = sso!.split('/')[2];
    expect(classes).toBe((await classDatabase(page, `?school_id=${schoolId}`)).length);
    await checkPage(page, 'home-admin', test.info());
    await row.getByRole('link', { name: 'People' }).click();
    await expect(page).toHaveURL(/\/users\?school_id=/);
  });

  test('Amy sees her class with its teachers, Account Settings, and Join another class well apart', async ({ page }) => {
    const amy = demoAccount('demo.amy');
    await signIn(page, amy.username, amy.password);
    const classes = section(page, 'Your classes');
    const tile = classes.getByRole('listitem').filter({ has: page.getByRole('heading', { name: CLASS }) });
    await expect(tile).toContainText('Teachers: Tom Baker and Lena Fischer');
    const settings = page.getByRole('main').getByRole('link', { name: 'Account Settings', exact: true });
    const join = page.getByRole('button', { name: 'Join class', exact: true });
    await expect(settings).toBeVisible();
    await expect(join).toBeVisible();
    const a = (await settings.boundingBox())!;
    const b = (await join.boundingBox())!;
    expect(b.y - (a.y + a.height), 'Join class stands well apart from Account Settings').toBeGreaterThanOrEqual(48);
    await checkPage(page, 'home-learner', test.info());
  });

  test('the parent sees Amy with her username, class and teachers', async ({ page }) => {
    const parent = demoAccount('demo.parent');
    await signIn(page, parent.username, parent.password);
    const children = section(page, 'Your children');
    const amy = children.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Amy Adams' }) });
    await expect(amy).toContainText('Username: demo.amy');
    await expect(amy).toContainText(`${CLASS}, with Tom Baker and Lena Fischer`);
    await expect(children.getByRole('link', { name: 'Link another child' })).toHaveAttribute('href', '/children');
    await expect((await mainMenu(page)).getByRole('link', { name: 'Your children', exact: true })).toBeVisible();
    await checkPage(page, 'home-parent', test.info());
  });
});

/** The authenticator app for the key the set-up page shows. */
function authenticator(key: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')), algorithm: 'SHA1', digits: 6, period: 30 });
}

/** Turns two-step verification off with a recovery code, if it is on. */
async function turnMfaOff(page: Page, password: string, recoveryCode: string): Promise<void> {
  await page.goto('/account/mfa');
  if ((await page.getByText('On.', { exact: true }).count()) === 0) return;
  await page.goto('/account/mfa/off');
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByLabel('Code from your app or a recovery code').fill(recoveryCode);
  await page.getByRole('button', { name: 'Turn off two-step verification', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Two-step verification is off');
}

/** Password, Email, Two-step verification (on and off again) and their answers. */
async function walkCredentials(page: Page, who: string, password: string): Promise<void> {
  await page.goto('/account');
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' })).toContainText('Home');
  await expect((await mainMenu(page)).getByRole('link', { name: 'Account Settings', exact: true })).toHaveAttribute('aria-current', 'page');
  await checkPage(page, `account-${who}`, test.info());

  await page.getByRole('link', { name: 'Password', exact: true }).click();
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' })).toHaveText(/Home\s*Account Settings\s*Password/);
  await expect((await mainMenu(page)).getByRole('link', { name: 'Account Settings', exact: true })).toHaveAttribute('aria-current', 'true');
  await expect(page.getByLabel('Current password', { exact: true })).toHaveAttribute('autocomplete', 'current-password');
  await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('autocomplete', 'new-password');
  await checkPage(page, `account-${who}-password`, test.info());
  await page.getByLabel('Current password', { exact: true }).fill(`${password}-not`);
  await page.getByLabel('New password', { exact: true }).fill('abc');
  await page.getByLabel('Confirm new password', { exact: true }).fill('abd');
  await page.getByRole('button', { name: 'Update Password', exact: true }).click();
  // The current password is checked first: its problem stands at its field, which has the focus.
  const current = page.getByLabel('Current password', { exact: true });
  await expect(current).toBeFocused();
  await expect(current).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#current_password-error')).toContainText('current password is not right');
  await checkPage(page, `account-${who}-password-refused`, test.info());
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByLabel('New password', { exact: true }).fill('abc');
  await page.getByLabel('Confirm new password', { exact: true }).fill('abd');
  await page.getByRole('button', { name: 'Update Password', exact: true }).click();
  await expect(page.getByLabel('New password', { exact: true })).toBeFocused();
  await expect(page.locator('#new_password-error')).toContainText(/characters/);
  await expect(page.locator('#confirm_password-error')).toBeVisible();
  await checkPage(page, `account-${who}-password-rules`, test.info());

  await page.goto('/account/email');
  await expect(page.getByLabel('New email address')).toHaveAttribute('autocomplete', 'email');
  await checkPage(page, `account-${who}-email`, test.info());
  await page.getByLabel('New email address').fill('not an address');
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Update Email', exact: true }).click();
  await expect(page.getByLabel('New email address')).toBeFocused();
  await expect(page.locator('#email-error')).toContainText('Enter an email address');
  await checkPage(page, `account-${who}-email-refused`, test.info());

  // Two-step verification: set up, the recovery codes, the confirm page to turn it off.
  await page.goto('/account/mfa');
  await checkPage(page, `account-${who}-mfa-off`, test.info());
  await section(page, 'Set up an authenticator app').getByLabel('Current password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Set up an authenticator app', level: 1 })).toBeVisible();
  const key = (await page.getByRole('figure', { name: 'Or type this key' }).locator('code').innerText()).trim();
  await expect(page.getByLabel('Enter the 6-digit code from the app')).toHaveAttribute('autocomplete', 'one-time-code');
  await checkPage(page, `account-${who}-mfa-setup`, test.info());
  let recovery = '';
  try {
    await page.getByLabel('Enter the 6-digit code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(page.getByLabel('Enter the 6-digit code from the app')).toBeFocused();
    await checkPage(page, `account-${who}-mfa-setup-refused`, test.info());
    await page.getByLabel('Enter the 6-digit code from the app').fill(authenticator(key).generate());
    await page.getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Your recovery codes', level: 1 })).toBeVisible();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
    expect(codes).toHaveLength(10);
    recovery = codes[0].trim();
    await checkPage(page, `account-${who}-mfa-codes`, test.info());
    await page.getByRole('link', { name: 'Done', exact: true }).click();
    await expect(page.getByText('On.', { exact: true })).toBeVisible();
    await checkPage(page, `account-${who}-mfa-on`, test.info());

    await page.getByRole('link', { name: 'Turn off two-step verification', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/mfa\/off$/);
    await expect(page.locator('.confirm')).toBeVisible();
    await checkPage(page, `account-${who}-mfa-turn-off`, test.info());
    await page.getByLabel('Current password', { exact: true }).fill(password);
    await page.getByLabel('Code from your app or a recovery code').fill('WRONG0CODE');
    await page.getByRole('button', { name: 'Turn off two-step verification', exact: true }).click();
    await expect(page.getByLabel('Code from your app or a recovery code')).toBeFocused();
    await expect(page.locator('#off_code-error')).toBeVisible();
    await checkPage(page, `account-${who}-mfa-turn-off-refused`, test.info());
    await page.getByRole('link', { name: 'Keep it on', exact: true }).click();
    await expect(page.getByText('On.', { exact: true })).toBeVisible();
  } finally {
    if (recovery) await turnMfaOff(page, password, recovery);
  }
  await expect(page.getByText('Off.', { exact: true })).toBeVisible();
}

/** Sessions, with a second browser to sign out through the confirm page. */
async function walkSessions(page: Page, browser: Browser, username: string, password: string, who: string): Promise<void> {
  const other = await browser.newContext();
  try {
    await signIn(await other.newPage(), username, password);
    await page.goto('/account/sessions');
    await expect(page.locator('table.sessions tbody tr').first()).toBeVisible();
    await checkPage(page, `account-${who}-sessions`, test.info());
    await page.getByRole('link', { name: 'Sign out other sessions', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Sign out \d+ other sessions?\?$/);
    await checkPage(page, `account-${who}-sessions-confirm`, test.info());
    await page.getByRole('button', { name: 'Sign out other sessions', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('signed out');
    await expect(page.locator('table.sessions tbody tr')).toHaveCount(1);
    await checkPage(page, `account-${who}-sessions-done`, test.info());
  } finally {
    await other.close();
  }
}

/** API tokens: one made (its secret shown once), the confirm page, revoked. */
async function walkTokens(page: Page, who: string): Promise<void> {
  await page.goto('/account/tokens');
  await checkPage(page, `account-${who}-tokens`, test.info());
  const name = `Walk ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create token', exact: true }).click();
  await expect(page.locator('#permissions-error')).toContainText('Choose at least one permission');
  await checkPage(page, `account-${who}-tokens-refused`, test.info());
  await page.getByRole('checkbox').first().check();
  await page.getByRole('button', { name: 'Create token', exact: true }).click();
  await expect(page.getByLabel('Your new token')).toHaveValue(/^kw_/);
  await checkPage(page, `account-${who}-tokens-created`, test.info());
  const row = page.locator('table.tokens tbody tr', { hasText: name });
  await row.getByRole('link', { name: 'Revoke' }).click();
  await expect(page.locator('.confirm')).toBeVisible();
  await checkPage(page, `account-${who}-token-revoke`, test.info());
  await page.getByRole('button', { name: 'Revoke token', exact: true }).click();
  await expect(page.locator('table.tokens tbody tr', { hasText: name })).toContainText('revoked');
}

/** Passkeys: one added with a virtual authenticator, the remove page, removed. */
async function walkPasskeys(page: Page, who: string, password: string): Promise<void> {
  await page.goto('/account/passkeys');
  await checkPage(page, `account-${who}-passkeys`, test.info());
  if (!(await page.getByRole('button', { name: 'Add a passkey' }).isVisible())) return;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const name = `Walk laptop ${Date.now() % 100000}`;
  await page.getByLabel('Name of the passkey').fill(name);
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Your passkey has been added.');
  try {
    await checkPage(page, `account-${who}-passkeys-listed`, test.info());
    await page.getByRole('link', { name: `Remove ${name}`, exact: true }).click();
    await expect(page.locator('.confirm')).toBeVisible();
    await checkPage(page, `account-${who}-passkey-remove`, test.info());
    await page.getByLabel('Current password', { exact: true }).fill(`${password}-not`);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(page.getByLabel('Current password', { exact: true })).toBeFocused();
    await checkPage(page, `account-${who}-passkey-remove-refused`, test.info());
  } finally {
    await page.goto('/account/passkeys');
    const remove = page.getByRole('link', { name: `Remove ${name}`, exact: true });
    if ((await remove.count()) > 0) {
      await remove.click();
      await page.getByLabel('Current password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(page.getByRole('status')).toContainText('The passkey has been removed.');
    }
  }
}

test.describe('Account Settings', () => {
  test('as a teacher: every section, its confirm pages and its answers', async ({ page, browser }) => {
    test.setTimeout(180_000);
    const teacher = demoAccount('demo.teacher');
    await signIn(page, teacher.username, teacher.password);
    await walkCredentials(page, 'teacher', teacher.password);
    await walkSessions(page, browser, teacher.username, teacher.password, 'teacher');
    await walkTokens(page, 'teacher');
    await walkPasskeys(page, 'teacher', teacher.password);
  });

  test('as a learner: every section, its confirm pages and its answers', async ({ page, browser }) => {
    test.setTimeout(180_000);
    const ben = demoAccount('demo.ben');
    await signIn(page, ben.username, ben.password);
    await page.goto('/account');
    // A learner holds no permission a token could use: no API tokens section.
    await expect(page.getByRole('link', { name: 'API tokens' })).toHaveCount(0);
    await walkCredentials(page, 'learner', ben.password);
    await walkSessions(page, browser, ben.username, ben.password, 'learner');
    await page.goto('/account/tokens');
    await checkPage(page, 'account-learner-tokens', test.info());
    await walkPasskeys(page, 'learner', ben.password);
  });
});
