import { expect, test } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, screenshot, signIn } from '../lib/keyward';

// Roster import (SPEC.md §7 R-TCH-6, the "Uploading Students" process),
// against the page contract:
//   /home                     lead teachers: a link "Import learners…" -> /schools/{id}/roster
//   /schools/{id}/roster      "Import learners": file input "Roster file (CSV)" (accept .csv,text/csv),
//                             button "Import learners", the columns explained and an example
//   POST (multipart)          refused: role="alert" with a table Row | Column | Problem, nothing imported;
//                             imported: role="status" "Imported N learners…", a table of the learners
//                             with "Access code" and "Parent access code" columns
//
// The learners go into classes of their own (Roster Class R1/R2), so the
// other specs' view of Class 4B does not change.

function suffix(): string {
  return Math.random().toString(36).replace(/[^a-z0-9]/g, '').slice(0, 5).padEnd(5, 'x');
}

test('a lead teacher imports a roster: problems first, then the learners with their codes', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.getByRole('main').getByRole('link', { name: /^Import learners/ }).first().click();
  await expect(page).toHaveURL(/\/schools\/[0-9a-f-]+\/roster$/);
  await expect(page.getByRole('heading', { name: 'Import learners', level: 1 })).toBeVisible();
  const file = page.getByLabel('Roster file (CSV)');
  await expect(file).toHaveAttribute('accept', '.csv,text/csv');
  await expectNoSeriousA11yViolations(page, 'roster form');
  await screenshot(page, 'roster-1-form', test.info());

  // A file with problems is refused whole, with a readable table.
  const bad = 'first_name,last_name,class\nRosa,,Roster Class R1\n=SUM(A1),Roster,Roster Class R1\n';
  await file.setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.getByRole('button', { name: 'Import learners' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('not imported');
  const problems = alert.getByRole('table', { name: 'Problems in the file' });
  await expect(problems.getByRole('row')).toHaveCount(3);
  await expect(problems.getByRole('row').nth(1)).toContainText('last_name');
  await expect(problems.getByRole('row').nth(2)).toContainText('formula');
  await expectNoSeriousA11yViolations(page, 'roster refused');
  await screenshot(page, 'roster-2-refused', test.info());

  // A good file: every learner with both codes.
  const tag = suffix();
  const good =
    '\ufefffirst_name,last_name,class,username\r\n' +
    `Rosa,Roster,Roster Class R1,rosa.${tag}\r\n` +
    'Rudi,Roster,Roster Class R2,\r\n';
  await page.getByLabel('Roster file (CSV)').setInputFiles({
    name: 'good.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(good),
  });
  await page.getByRole('button', { name: 'Import learners' }).click();
  await expect(page.getByRole('status')).toContainText('Imported 2 learners');
  const created = page.getByRole('table', { name: 'Learners created, in the order of the file' });
  await expect(created.getByRole('row')).toHaveCount(3);
  await expect(created.getByRole('columnheader', { name: 'Parent access code' })).toBeVisible();
  await expect(created.getByRole('row').nth(1)).toContainText(`rosa.${tag}`);
  await expect(page.getByText('Show access codes')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'roster imported');
  await screenshot(page, 'roster-3-imported', test.info());
});

test('a teacher does not see the import and may not open it', async ({ page }) => {
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  await expect(page.getByRole('link', { name: /Import learners/ })).toHaveCount(0);
});
