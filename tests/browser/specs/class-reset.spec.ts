import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { changePasswordViaApi, demoAccount, expectNoSeriousA11yViolations, mainMenu, newPassword, parseCsv, screenshot, setLearnerPasswordViaApi, signIn } from '../lib/keyward';

// Seed 002 "Reset a password for a whole class" (SPEC.md §7 R-TCH-3), against
// the page contract:
//   /classes                        each class region has a link "Reset password for the whole class"
//   /classes/{id}/password-reset    heading "Reset password for CLASS"; radios
//                                   "The same password for every learner" (with an optional
//                                   "Password for every learner (optional)"; blank generates one) and
//                                   "A new password for each learner"; button "Reset"; problems in role=alert
//   result                          heading "New passwords for CLASS"; role=status; a table captioned
//                                   "New passwords for CLASS" (Learner | Username | New password);
//                                   link "Download CSV" (a data: URL with download="CLASS-passwords.csv",
//                                   columns class,first_name,last_name,username,password); button "Print cards"
//                                   (shown with JavaScript); printed, one .login-card per learner
//
// The suite shares one demo server and other specs sign in as the demo
// learners with their demo passwords: at the end every Class 4B learner gets
// the demo password back as it was seeded (Amy's and Ben's set by staff,
// through the API as the lead teacher; Cara's her own, private choice).

const CLASS = 'Class 4B';
const LEARNERS = [
  { first: 'Amy', last: 'Adams', username: 'demo.amy' },
  { first: 'Ben', last: 'Brown', username: 'demo.ben' },
  { first: 'Cara', last: 'Clark', username: 'demo.cara' },
];

/**
 * Fails when any of `secrets` is in the server's log or in its SQLite files.
 * scripts/browser-test keeps both in the data dir, beside demo-accounts.txt
 * (on PostgreSQL there is no database file there; the log is still read).
 */
function expectNotStoredOrLogged(secrets: string[]): void {
  const accounts = process.env.KEYWARD_DEMO_ACCOUNTS;
  if (!accounts) throw new Error('KEYWARD_DEMO_ACCOUNTS is not set: run the suite with scripts/browser-test');
  const dir = path.dirname(accounts);
  const log = path.join(dir, 'server.log');
  expect(fs.existsSync(log), `no server log at ${log}`).toBe(true);
  for (const name of ['server.log', 'keyward.db', 'keyward.db-wal', 'keyward.db-shm']) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) continue;
    const bytes = fs.readFileSync(file);
    for (const secret of secrets) {
      expect(bytes.includes(Buffer.from(secret, 'utf8')), `a handed-out password is in ${name}`).toBe(false);
    }
  }
}

/** Puts every Class 4B learner's password back to the seeded one, as seeded. */
async function restoreDemoLearners(): Promise<void> {
  const lead = demoAccount('demo.lead');
  for (const { username } of LEARNERS) {
    const learner = demoAccount(username);
    if (username === 'demo.cara') {
      // Staff give her a known password, then she chooses her own again.
      const interim = newPassword('Cara');
      await setLearnerPasswordViaApi(lead, username, interim);
      await changePasswordViaApi(username, interim, learner.password);
    } else {
      await setLearnerPasswordViaApi(lead, username, learner.password);
    }
  }
}

async function openClassResetForm(page: Page): Promise<void> {
  await (await mainMenu(page)).getByRole('link', { name: 'Class database', exact: true }).click();
  await expect(page).toHaveURL(/\/classes$/);
  const block = page.getByRole('region', { name: CLASS, exact: true });
  await block.getByRole('link', { name: `Reset password for the whole class (${CLASS})`, exact: true }).click();
  await expect(page).toHaveURL(/\/classes\/[0-9a-f-]+\/password-reset$/);
  await expect(page.getByRole('heading', { name: `Reset password for ${CLASS}`, level: 1 })).toBeVisible();
}

test('a teacher resets Class 4B with a new password each, downloads them, and a learner signs in', async ({
  page,
  browser,
}) => {
  const teacher = demoAccount('demo.teacher');
  try {
    await signIn(page, teacher.username, teacher.password);
    await openClassResetForm(page);
    const same = page.getByLabel('The same password for every learner', { exact: true });
    const each = page.getByLabel('A new password for each learner', { exact: true });
    await expect(same).toHaveAttribute('type', 'radio');
    await expect(each).toBeChecked();
    const shared = page.getByLabel('Password for every learner (optional)', { exact: true });
    await expect(shared).toHaveAttribute('type', 'password');
    await expect(shared).toHaveAttribute('autocomplete', 'new-password');
    await expectNoSeriousA11yViolations(page, 'Reset password for a class');
    await screenshot(page, 'class-reset-1-form', test.info());

    // A shared password that breaks the learner rules: the form again, nothing changed.
    await same.check();
    await shared.fill('abc');
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Use at least');
    await expect(page.getByRole('alert')).toBeFocused();
    await expect(page.getByLabel('Password for every learner (optional)', { exact: true })).toHaveValue('');
    await expectNoSeriousA11yViolations(page, 'Reset password for a class, with problems');

    await page.getByLabel('A new password for each learner', { exact: true }).check();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect(page.getByRole('heading', { name: `New passwords for ${CLASS}`, level: 1 })).toBeVisible();
    await expect(page.getByRole('status')).toContainText('3 learners have a new password');
    const table = page.getByRole('table', { name: `New passwords for ${CLASS}` });
    const shown = new Map<string, string>();
    for (const learner of LEARNERS) {
      const row = table.getByRole('row', { name: new RegExp(`${learner.first} ${learner.last}`) });
      await expect(row.getByRole('cell').first()).toHaveText(learner.username);
      const password = (await row.locator('code').innerText()).trim();
      expect(password).toMatch(/^[A-Za-z2-9]{6,}$/);
      shown.set(learner.username, password);
    }
    expect(new Set(shown.values()).size).toBe(3);
    await expect(page.getByRole('button', { name: 'Print cards', exact: true })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'New passwords for a class');
    await screenshot(page, 'class-reset-2-result', test.info());

    // Download CSV: the same passwords, one row per learner.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV', exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('Class-4B-passwords.csv');
    const file = await download.path();
    const rows = parseCsv(fs.readFileSync(file, 'utf8'));
    expect(rows[0]).toEqual(['class', 'first_name', 'last_name', 'username', 'password']);
    expect(rows.slice(1)).toEqual(
      LEARNERS.map((l) => [CLASS, l.first, l.last, l.username, shown.get(l.username)]),
    );

    // Printed, the page becomes one card per learner.
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('.login-card')).toHaveCount(3);
    await expect(page.locator('.login-card').first()).toBeVisible();
    await expect(table).toBeHidden();
    await screenshot(page, 'class-reset-3-print', test.info());
    await page.emulateMedia({ media: 'screen' });

    // Amy signs in with her new password, in her own browser.
    const context = await browser.newContext();
    try {
      await signIn(await context.newPage(), 'demo.amy', shown.get('demo.amy')!);
    } finally {
      await context.close();
    }

    // No password handed out was written to the database or the log.
    expectNotStoredOrLogged([...shown.values()]);
  } finally {
    await restoreDemoLearners();
  }
});

test('the same password for every learner, generated when left blank', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  try {
    await signIn(page, lead.username, lead.password);
    await openClassResetForm(page);
    await page.getByLabel('The same password for every learner', { exact: true }).check();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('They all share the same password.');
    const passwords = await page.getByRole('table', { name: `New passwords for ${CLASS}` }).locator('code').allInnerTexts();
    expect(passwords).toHaveLength(3);
    expect(new Set(passwords).size).toBe(1);
    for (const { username } of LEARNERS) {
      expect(passwords[0].toLowerCase()).not.toContain(username);
    }
  } finally {
    await restoreDemoLearners();
  }
});
