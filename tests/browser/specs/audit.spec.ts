import * as fs from 'node:fs';
import { expect, test, type Download } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, parseCsv, screenshot, signIn } from '../lib/keyward';

// The audit log (SPEC.md §9 R-AUD-1), against the page contract:
//   menu "Audit log"      for the roles with audit.view (lead teacher, platform admin)
//   /audit                h1 "Audit log"; a GET form (role=search "Filter the audit log") with
//                         "Person", "Action", "Outcome", "From", "To" and button "Filter";
//                         "Dates are whole days in UTC"; the table (caption "Audit log entries")
//                         Time | Actor | Target | Action | Outcome | Address | Detail;
//                         links "Older" / "Newer" keep the filters; "No entries match these
//                         filters." when empty; a bad filter is told under its field (422)
//   "Download CSV"        /audit.csv with the same filters: id,at,actor_id,actor_username,
//                         actor_name,target_id,target_username,target_name,school_id,action,
//                         outcome,client_addr,detail,api_token_id
//
// Nothing here changes anything but the log itself (each download is audited).

const HEADER = [
  'id',
  'at',
  'actor_id',
  'actor_username',
  'actor_name',
  'target_id',
  'target_username',
  'target_name',
  'school_id',
  'action',
  'outcome',
  'client_addr',
  'detail',
  'api_token_id',
];

test('the lead teacher finds their own sign-in in the audit log and downloads it as CSV', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await fromMenu(page, 'Audit log');
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  await expect(page.getByText('Dates are whole days in UTC')).toBeVisible();

  const today = new Date().toISOString().slice(0, 10);
  const form = page.getByRole('search', { name: 'Filter the audit log' });
  await form.getByLabel('Person', { exact: true }).fill(lead.username);
  await form.getByLabel('Action', { exact: true }).fill('sign_in');
  await form.getByLabel('Outcome', { exact: true }).fill('success');
  await form.getByLabel('From', { exact: true }).fill(today);
  await form.getByLabel('To', { exact: true }).fill(today);
  await form.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(page).toHaveURL(/\/audit\?person=demo\.lead&action=sign_in&outcome=success&from=/);

  const table = page.getByRole('table', { name: 'Audit log entries' });
  await expect(table).toBeVisible();
  const rows = table.locator('tbody tr');
  expect(await rows.count()).toBeGreaterThan(0);
  const newest = rows.first();
  await expect(newest.locator('td').nth(1)).toContainText(`(${lead.username})`);
  await expect(newest.locator('td').nth(3)).toHaveText('sign_in');
  await expect(newest.locator('td').nth(4)).toHaveText('success');
  await expect(newest.locator('time')).toHaveAttribute('datetime', new RegExp(`^${today}T`));
  await expectNoSeriousA11yViolations(page, 'Audit log');
  await screenshot(page, 'audit-log', test.info());

  const [download]: [Download, void] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV', exact: true }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
  const records = parseCsv(fs.readFileSync(await download.path()).toString('utf8'), 'crlf');
  expect(records[0]).toEqual(HEADER);
  const data = records.slice(1);
  expect(data.length).toBeGreaterThan(0);
  for (const row of data) {
    expect(row).toHaveLength(HEADER.length);
    expect(row[9]).toBe('sign_in');
    expect(row[10]).toBe('success');
    expect([row[3], row[6]]).toContain(lead.username);
    expect(row[1].slice(0, 10)).toBe(today);
  }
  // The page's newest row is the file's first.
  expect(await rows.first().getAttribute('data-entry')).toBe(data[0][0]);
});

test('a bad filter is explained on the page and the empty state is plain', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  const response = await page.goto('/audit?from=2026-02-30');
  expect(response?.status()).toBe(422);
  // Said under the field at fault, which is marked and gets the focus.
  await expect(page.locator('#from-error')).toContainText('YYYY-MM-DD');
  await expect(page.getByLabel('From', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('From', { exact: true })).toBeFocused();
  await expectNoSeriousA11yViolations(page, 'Audit log with a bad filter');

  await page.goto('/audit?person=nobody.at.all');
  await expect(page.getByText('No entries match these filters.')).toBeVisible();
});

test('paging keeps the filters: Older, then Newer back', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.goto('/audit?limit=2');
  const firstIds = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entry')));
  expect(firstIds).toHaveLength(2);
  await page.getByRole('link', { name: 'Older', exact: true }).click();
  await expect(page).toHaveURL(/limit=2&before=\d+/);
  const olderIds = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entry')));
  expect(olderIds.every((id) => Number(id) < Number(firstIds[1]))).toBe(true);
  await page.getByRole('link', { name: 'Newer', exact: true }).click();
  await expect(page).toHaveURL(/limit=2&after=\d+/);
  const back = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entry')));
  expect(back).toEqual(firstIds);
});
