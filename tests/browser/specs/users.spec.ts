import { expect, test } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, screenshot, signIn } from '../lib/keyward';

// Utilities > Security > Users (SPEC.md §9, R-ADM-1, R-ADM-4):
//   /users               heading "Users", a search box "Search by name,
//                        username or email", selects "Role", "Class",
//                        "Status", "Two-step verification", button "Search",
//                        "N people found", a table of people, paging links
//   /users/{id}          facts (Role, Classes, Status, Last sign-in,
//                        Two-step verification), section "Actions" with
//                        "Disable account" (a link to a confirm page) or
//                        "Enable account"
//   /users/{id}/disable  "Disable the account of …?", button "Disable account"
//
// The lead teacher finds a learner, disables the account — the learner,
// signed in elsewhere, is signed out at once and cannot sign in — then
// enables it again (the demo is left as it was).

test.describe('Users', () => {
  test('the lead teacher searches, filters, opens a learner, disables and enables the account', async ({ browser }) => {
    const lead = demoAccount('demo.lead');
    const ben = demoAccount('demo.ben');
    const leadContext = await browser.newContext();
    const benContext = await browser.newContext();
    try {
      const page = await leadContext.newPage();
      const benPage = await benContext.newPage();
      await signIn(benPage, ben.username, ben.password);
      await signIn(page, lead.username, lead.password);

      // Utilities > Security > Users, from the menu.
      await fromMenu(page, 'Users');
      await expect(page).toHaveURL(/\/users$/);
      await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
      await expect(page.getByRole('status')).toContainText('people found');
      await expectNoSeriousA11yViolations(page, 'Users');

      // Search by name.
      await page.getByLabel('Search by name, username or email').fill('ben');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await expect(page).toHaveURL(/\/users\?q=ben/);
      const rows = page.locator('table.users-table tbody tr');
      await expect(rows).toHaveCount(1);
      await expect(rows.first()).toContainText('demo.ben');

      // Filter: learners of Class 4B who are active, without two-step verification.
      await page.getByLabel('Search by name, username or email').fill('');
      await page.getByLabel('Role', { exact: true }).selectOption('learner');
      await page.getByLabel('Class', { exact: true }).selectOption({ label: 'Class 4B' });
      await page.getByLabel('Status', { exact: true }).selectOption('active');
      await page.getByLabel('Two-step verification', { exact: true }).selectOption('off');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await expect(page).toHaveURL(/role=learner/);
      await expect(page.getByLabel('Role', { exact: true })).toHaveValue('learner');
      await expect(rows.filter({ hasText: 'demo.ben' })).toHaveCount(1);
      await expect(rows.filter({ hasText: 'Lena' })).toHaveCount(0);
      for (const row of await rows.all()) {
        await expect(row).toContainText('Learner');
        await expect(row).toContainText('Active');
      }
      await screenshot(page, 'users-1-filtered', test.info());

      // A page of one keeps the filters in its paging links.
      await page.goto('/users?role=learner&per_page=1');
      await expect(page.getByText(/Page 1 of \d+/)).toBeVisible();
      await page.getByRole('link', { name: 'Next page', exact: true }).click();
      await expect(page).toHaveURL(/role=learner&per_page=1&page=2/);
      await expect(page.getByText(/Page 2 of \d+/)).toBeVisible();

      // A filter value the list does not know is said plainly.
      await page.goto('/users?status=asleep');
      await expect(page.locator('#status-error')).toContainText('The status is pending, active or disabled.');
      await expect(page.getByLabel('Status', { exact: true })).toHaveAttribute('aria-invalid', 'true');

      // Open the learner.
      await page.goto('/users?q=demo.ben');
      await page.getByRole('link', { name: /Ben/ }).first().click();
      await expect(page.getByRole('heading', { level: 1 })).toContainText('Ben');
      await expect(page.getByText('Class 4B')).toBeVisible();
      const actions = page.getByRole('region', { name: 'Actions' });
      await expect(actions).toBeVisible();
      await expectNoSeriousA11yViolations(page, 'One user');
      const userUrl = page.url();

      // Disable account → confirm → disabled.
      await actions.getByRole('link', { name: 'Disable account', exact: true }).click();
      await expect(page).toHaveURL(/\/disable$/);
      await expect(page.getByRole('heading', { level: 1 })).toContainText('Disable the account of');
      await expectNoSeriousA11yViolations(page, 'Disable account');
      await screenshot(page, 'users-2-confirm-disable', test.info());
      await page.getByRole('button', { name: 'Disable account', exact: true }).click();
      await expect(page).toHaveURL(/\?disabled=1$/);
      await expect(page.getByRole('status')).toContainText('The account is disabled.');
      await expect(page.locator('.facts')).toContainText('Disabled');

      // Ben, signed in elsewhere, is signed out at once and cannot sign in.
      await benPage.goto('/account');
      await expect(benPage).toHaveURL(/\/signin/);
      await benPage.goto('/signin');
      await benPage.getByRole('link', { name: 'Sign in', exact: true }).click();
      await benPage.getByLabel('Username', { exact: true }).fill(ben.username);
      await benPage.getByRole('button', { name: 'Next', exact: true }).click();
      await benPage.getByLabel('Password', { exact: true }).fill(ben.password);
      await benPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(benPage.getByRole('alert')).toContainText("don't match");

      // Enable account: Ben signs in again.
      await page.goto(userUrl);
      await page.getByRole('region', { name: 'Actions' }).getByRole('button', { name: 'Enable account', exact: true }).click();
      await expect(page.getByRole('status')).toContainText('enabled again');
      await expect(page.locator('.facts')).toContainText('Active');
      await screenshot(page, 'users-3-enabled', test.info());
      await signIn(benPage, ben.username, ben.password);
    } finally {
      await leadContext.close();
      await benContext.close();
    }
  });
});
