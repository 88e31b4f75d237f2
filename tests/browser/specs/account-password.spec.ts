import { expect, test, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, newPassword, PasswordKeeper, screenshot, signIn } from '../lib/keyward';

// Account Settings > Password (SPEC.md §8 R-SET-1; seed 000 "Account
// Settings", seed 001 "Change Your Password When Logged In"):
//   navigation menu (summary "Menu") -> link "Account Settings" (/account)
//   /account           heading "Account Settings", link "Password"
//   /account/password  "Current password", "New password", "Confirm new password",
//                      show/hide toggles, live hints (li.met) and "Strength: …",
//                      button "Update Password" -> role=status "Your password has been updated…"
//                      or role=alert with the problems
//   /.well-known/change-password -> /account/password
// Changing the password ends the account's other sessions.
//
// The suite shares one demo server: every test here puts the password back.

const CURRENT = 'Current password';
const NEW = 'New password';
const CONFIRM = 'Confirm new password';

async function openPasswordFromMenu(page: Page, shot?: string): Promise<void> {
  await fromMenu(page, 'Account Settings');
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Account Settings', level: 1 })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'Account Settings');
  if (shot) await screenshot(page, `${shot}-1-account-settings`, test.info());

  await page.getByRole('link', { name: 'Password', exact: true }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await expect(page.getByRole('heading', { name: 'Password', level: 1 })).toBeVisible();
}

test.describe('Account Settings password', () => {
  test('demo.lead changes the password; the other browser is signed out', async ({ browser }) => {
    const lead = demoAccount('demo.lead');
    const keeper = new PasswordKeeper(lead);
    const a = await browser.newContext();
    const b = await browser.newContext();
    try {
      const pageA = await a.newPage();
      const pageB = await b.newPage();
      await signIn(pageA, lead.username, lead.password);
      await signIn(pageB, lead.username, lead.password);

      await openPasswordFromMenu(pageA, 'account-password');
      const current = pageA.getByLabel(CURRENT, { exact: true });
      const fresh = pageA.getByLabel(NEW, { exact: true });
      const confirm = pageA.getByLabel(CONFIRM, { exact: true });
      for (const field of [current, fresh, confirm]) {
        await expect(field).toHaveAttribute('type', 'password');
      }
      await expect(current).toHaveAttribute('autocomplete', 'current-password');
      await expect(fresh).toHaveAttribute('autocomplete', 'new-password');
      await expect(confirm).toHaveAttribute('autocomplete', 'new-password');
      await expectNoSeriousA11yViolations(pageA, 'Password page');
      await screenshot(pageA, 'account-password-2-password-page', test.info());

      const password = newPassword('Lead');
      await current.fill(lead.password);

      // Live hints: nothing met yet, then "At least 8 characters" ticks off while typing.
      const minHint = pageA.locator('ul.hints li', { hasText: 'At least 8 characters' });
      await expect(minHint).toBeVisible();
      await expect(minHint).not.toHaveClass(/\bmet\b/);
      await fresh.pressSequentially(password.slice(0, 4));
      await expect(minHint).not.toHaveClass(/\bmet\b/);
      await expect(pageA.locator('.strength')).toContainText('Strength:');
      await fresh.pressSequentially(password.slice(4));
      await expect(minHint).toHaveClass(/\bmet\b/);
      await expect(pageA.locator('ul.hints li.met').first()).toBeVisible();
      await expect(pageA.locator('.strength')).toContainText(/Strength: \w+/);

      // Show / Hide flips the input between password and text.
      const toggle = pageA.locator('button[data-toggle-password="new_password"]');
      await expect(toggle).toBeVisible();
      await expect(toggle).toHaveText('Show');
      await toggle.click();
      await expect(fresh).toHaveAttribute('type', 'text');
      // The name stays "Show new password"; aria-pressed tells the state.
      await expect(toggle).toHaveAccessibleName('Show new password');
      await expect(toggle).toHaveAttribute('aria-pressed', 'true');
      await expect(fresh).toHaveValue(password);
      await screenshot(pageA, 'account-password-3-typed-shown', test.info());
      await toggle.click();
      await expect(fresh).toHaveAttribute('type', 'password');
      await expect(toggle).toHaveAttribute('aria-pressed', 'false');

      await confirm.fill(password);
      await pageA.getByRole('button', { name: 'Update Password', exact: true }).click();
      await expect(pageA.getByRole('status')).toContainText('Your password has been updated');
      keeper.changedTo(password);
      await screenshot(pageA, 'account-password-4-updated', test.info());

      // A is still signed in ...
      await pageA.goto('/home');
      await expect(pageA).toHaveURL(/\/home$/);

      // ... B's session ended.
      await pageB.goto('/home');
      await expect(pageB).toHaveURL(/\/signin$/);
      await screenshot(pageB, 'account-password-5-other-browser-signed-out', test.info());

      // The old password no longer works, the new one does.
      await pageB.getByRole('link', { name: 'Sign in', exact: true }).click();
      await pageB.getByLabel('Username', { exact: true }).fill(lead.username);
      await pageB.getByRole('button', { name: 'Next', exact: true }).click();
      await pageB.getByLabel('Password', { exact: true }).fill(lead.password);
      await pageB.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(pageB.getByRole('alert')).toBeVisible();
      await expect(pageB).not.toHaveURL(/\/home$/);
      await pageB.getByLabel('Password', { exact: true }).fill(password);
      await pageB.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(pageB).toHaveURL(/\/home$/);
      await expect(pageB.getByText(`Signed in as ${lead.username}`).first()).toBeVisible();

      // Put the password back through the same page.
      await openPasswordFromMenu(pageB);
      await pageB.getByLabel(CURRENT, { exact: true }).fill(password);
      await pageB.getByLabel(NEW, { exact: true }).fill(lead.password);
      await pageB.getByLabel(CONFIRM, { exact: true }).fill(lead.password);
      await pageB.getByRole('button', { name: 'Update Password', exact: true }).click();
      await expect(pageB.getByRole('status')).toContainText('Your password has been updated');
      keeper.changedTo(lead.password);
    } finally {
      await a.close();
      await b.close();
      await keeper.restoreAfterFailure();
    }
  });

  test('a wrong current password and a password that breaks the rules are refused', async ({ page }) => {
    // A learner: the classic rules (seed 000), so a short password breaks several.
    const ben = demoAccount('demo.ben');
    await signIn(page, ben.username, ben.password);
    await page.goto('/account/password');
    await expect(page.getByRole('heading', { name: 'Password', level: 1 })).toBeVisible();

    // Wrong current password.
    await page.getByLabel(CURRENT, { exact: true }).fill(`${ben.password}-wrong`);
    await page.getByLabel(NEW, { exact: true }).fill('RiverStone47');
    await page.getByLabel(CONFIRM, { exact: true }).fill('RiverStone47');
    await page.getByRole('button', { name: 'Update Password', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toBeVisible();
    await expect(alert).toContainText(/current password/i);
    await expect(page.getByRole('status')).toHaveCount(0);
    await expectNoSeriousA11yViolations(page, 'Password page with a wrong current password');
    await screenshot(page, 'account-password-6-wrong-current', test.info());

    // The right current password, a new one that breaks the rules.
    await page.getByLabel(CURRENT, { exact: true }).fill(ben.password);
    await page.getByLabel(NEW, { exact: true }).fill('abc');
    await page.getByLabel(CONFIRM, { exact: true }).fill('abc');
    await page.getByRole('button', { name: 'Update Password', exact: true }).click();
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('Please fix these');
    const problems = alert.locator('li');
    expect(await problems.count(), 'each broken rule is listed').toBeGreaterThan(1);
    await expect(alert).toContainText(/6 characters/);
    await expect(alert).toContainText(/uppercase/i);
    await expect(alert).toContainText(/digit|number/i);
    await expect(page.getByRole('status')).toHaveCount(0);
    await expectNoSeriousA11yViolations(page, 'Password page with errors');
    await screenshot(page, 'account-password-7-rules-broken', test.info());

    // Nothing changed: the old password still signs in.
    const other = await page.context().browser()!.newContext();
    try {
      await signIn(await other.newPage(), ben.username, ben.password);
    } finally {
      await other.close();
    }
  });

  test('/.well-known/change-password leads to the password page', async ({ page }) => {
    const cara = demoAccount('demo.cara');
    // Signed out, the password page sends to sign-in.
    // Signed out, the password page sends to sign-in, and back afterwards.
    await page.goto('/.well-known/change-password');
    await expect(page).toHaveURL(/\/signin\?next=%2Faccount%2Fpassword$/);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Username', { exact: true }).fill(cara.username);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByLabel('Password', { exact: true }).fill(cara.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/password$/);

    await page.goto('/.well-known/change-password');
    await expect(page).toHaveURL(/\/account\/password$/);
    await expect(page.getByRole('heading', { name: 'Password', level: 1 })).toBeVisible();
    await expect(page.getByLabel(CURRENT, { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Update Password', exact: true })).toBeVisible();
  });
});
