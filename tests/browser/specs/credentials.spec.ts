import * as fs from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, mainMenu, parseCsv, screenshot, signIn } from '../lib/keyward';

// Seed 002 "To access and download the passwords of a class / of your school"
// (R-TCH-5), against the page contract:
//   /classes/{id}                 the class page: link "User accounts"
//   /school                       "Subscription management": link "User accounts"
//   …/accounts                    h1 "User accounts": a table (caption "Learner accounts of …")
//                                 Learner | [Class] | Username | Status | Password, no secret;
//                                 link "Show access codes"
//   …/accounts/codes              the same learners with Password | Password status | Access code |
//                                 Parent access code; link "Download CSV"; a legend of the states
//   …/credentials.csv             the download: school,class,first_name,last_name,username,password,
//                                 password_status,access_code,parent_access_code
//
// The suite shares one demo server: nothing here changes anyone's password.
// Other specs add learners to Class 4B, so only the seeded learners are
// looked for by name.

const CLASS = 'Class 4B';
const SCHOOL = 'Riverside Primary School';
const HEADER = [
  'school',
  'class',
  'first_name',
  'last_name',
  'username',
  'password',
  'password_status',
  'access_code',
  'parent_access_code',
];
const SEEDED_LEARNERS = ['demo.amy', 'demo.ben', 'demo.cara'];

async function openFromMenu(page: Page, label: string): Promise<void> {
  await (await mainMenu(page)).getByRole('link', { name: label, exact: true }).click();
}

/** Clicks "Download CSV" and returns the file's name and its records. */
async function downloadCsv(page: Page): Promise<{ name: string; records: string[][] }> {
  const [download]: [Download, void] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV', exact: true }).click(),
  ]);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'no byte-order mark').toBe(false);
  return { name: download.suggestedFilename(), records: parseCsv(bytes.toString('utf8'), 'crlf') };
}

/** The seeded learners' rows hold what the demo gave them, and nothing that is not theirs to hold. */
function checkSeededRows(records: string[][]): void {
  expect(records[0]).toEqual(HEADER);
  const rows = records.slice(1);
  for (const row of rows) expect(row).toHaveLength(HEADER.length);
  for (const username of SEEDED_LEARNERS) {
    const row = rows.find((r) => r[4] === username && r[1] === CLASS);
    expect(row, `${username} is in the CSV`).toBeDefined();
    if (!row) continue;
    expect(row[0]).toBe(SCHOOL);
    expect(row[8], `${username} has a parent access code`).toMatch(/^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/);
    expect(row[7], 'an active learner needs no access code').toBe('');
    if (row[6] === 'retrievable') {
      expect(row[5]).toBe(demoAccount(username).password);
    } else {
      expect(['private', 'not_kept']).toContain(row[6]);
      expect(row[5]).toBe('');
    }
  }
  // Cara chose her own password in the demo: it is never in the file.
  const cara = rows.find((r) => r[4] === 'demo.cara');
  expect(cara?.[6]).toBe('private');
}

/** The usernames the page's table shows. */
async function tableUsernames(page: Page): Promise<string[]> {
  const cells = await page.getByRole('table').getByRole('row').locator('td').allTextContents();
  return SEEDED_LEARNERS.filter((u) => cells.some((c) => c.trim() === u));
}

test('a teacher goes from the class to User accounts, shows the access codes and downloads the CSV', async ({
  page,
}) => {
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  await openFromMenu(page, 'Class database');
  await page.getByRole('region', { name: CLASS, exact: true }).getByRole('link', { name: CLASS, exact: true }).click();
  await expect(page.getByRole('heading', { name: CLASS, level: 1 })).toBeVisible();

  await page.getByRole('link', { name: 'User accounts', exact: true }).click();
  await expect(page).toHaveURL(/\/classes\/[0-9a-f-]{36}\/accounts$/);
  await expect(page.getByRole('heading', { name: 'User accounts', level: 1 })).toBeVisible();
  const table = page.getByRole('table', { name: `Learner accounts of ${CLASS}` });
  await expect(table).toBeVisible();
  expect(await tableUsernames(page)).toEqual(SEEDED_LEARNERS);
  await expect(table.getByRole('row', { name: /Cara Clark/ })).toContainText('Private: chosen by the learner');
  // No secret before "Show access codes".
  await expect(table.getByRole('columnheader', { name: 'Parent access code' })).toHaveCount(0);
  await expect(page.getByText(demoAccount('demo.amy').password)).toHaveCount(0);
  await expectNoSeriousA11yViolations(page, 'User accounts of a class');
  await screenshot(page, 'credentials-class-accounts', test.info());

  await page.getByRole('link', { name: 'Show access codes', exact: true }).click();
  await expect(page).toHaveURL(/\/accounts\/codes$/);
  const codes = page.getByRole('table', { name: `Usernames, passwords and access codes of ${CLASS}` });
  await expect(codes.getByRole('columnheader', { name: 'Parent access code' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('recorded');
  await expect(page.getByText('The learner has chosen a private password')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'Access codes of a class');
  await screenshot(page, 'credentials-class-codes', test.info());

  const { name, records } = await downloadCsv(page);
  expect(name).toBe('riverside-primary-school-class-4b-credentials.csv');
  checkSeededRows(records);
  // The file lists the learners the page lists, one row each.
  const rowsOnPage = await codes.locator('tbody tr').count();
  expect(records.length - 1).toBe(rowsOnPage);
  expect(records.slice(1).every((r) => r[1] === CLASS)).toBe(true);
});

test('the lead teacher downloads the whole school from Subscription management', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await openFromMenu(page, 'Subscription management');
  await expect(page.getByRole('heading', { name: 'Subscription management', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'User accounts', exact: true }).click();
  await expect(page).toHaveURL(/\/school\/accounts$/);
  await expect(page.getByRole('heading', { name: 'User accounts', level: 1 })).toBeVisible();
  const table = page.getByRole('table', { name: `Learner accounts of ${SCHOOL}` });
  await expect(table.getByRole('columnheader', { name: 'Class' })).toBeVisible();
  expect(await tableUsernames(page)).toEqual(SEEDED_LEARNERS);
  await expectNoSeriousA11yViolations(page, 'User accounts of the school');

  await page.getByRole('link', { name: 'Show access codes', exact: true }).click();
  await expect(page).toHaveURL(/\/school\/accounts\/codes$/);
  await expect(
    page.getByRole('table', { name: `Usernames, passwords and access codes of ${SCHOOL}` }),
  ).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'Access codes of the school');
  await screenshot(page, 'credentials-school-codes', test.info());

  const { name, records } = await downloadCsv(page);
  expect(name).toBe('riverside-primary-school-credentials.csv');
  checkSeededRows(records);
  expect(records.slice(1).every((r) => r[0] === SCHOOL)).toBe(true);
});

test('a teacher cannot open the school’s User accounts', async ({ page }) => {
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  for (const path of ['/school/accounts', '/school/accounts/codes']) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(403);
  }
  const response = await page.request.get('/school/credentials.csv');
  expect(response.status()).toBe(403);
  expect(response.headers()['content-type']).toContain('text/html');
});
