import { expect, test, type Page } from '@playwright/test';
import { changePasswordViaApi, demoAccount, expectNoSeriousA11yViolations, fromMenu, newPassword, screenshot, setLearnerPasswordViaApi, signIn } from '../lib/keyward';

// Seed 002 "How to reset a learner's password" for one learner (R-TCH-1,
// R-TCH-2, R-TCH-4), against the page contract:
//   /classes                 each learner row has a link "Reset password"
//   /school/students         the same, for the lead teacher
//   /learners/{id}/password  "Reset password": "Show password" (when a copy is kept)
//                            -> the password in #existing-password;
//                            "Generate new password" -> a read-only field "New password for NAME"
//                            and the button "Reset" -> role=status with the password in #new-password;
//                            "Or choose a password": "Password for NAME", button "Set this password",
//                            problems in role=alert
//   /school/settings         "School settings", section "Learner passwords": the school's switch (lead teacher)
//
// The suite shares one demo server: demo.ben's password is put back through
// the API as the lead teacher (so it stays one staff gave, as seeded).

async function openFromMenu(page: Page, label: string): Promise<void> {
  await fromMenu(page, label);
}

test('a teacher shows a learner the password, then generates a new one and resets it', async ({ page, browser }) => {
  const teacher = demoAccount('demo.teacher');
  const ben = demoAccount('demo.ben');
  const lead = demoAccount('demo.lead');
  try {
    await signIn(page, teacher.username, teacher.password);
    await openFromMenu(page, 'Class database');
    const row = page.getByRole('row', { name: /Ben Brown/ });
    await row.getByRole('link', { name: /Reset password/ }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Reset password');
    await expect(page.getByText('demo.ben').first()).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'Reset password page');

    // Give the learner the existing password.
    await page.getByRole('button', { name: 'Show password', exact: true }).click();
    await expect(page.locator('#existing-password')).toHaveText(ben.password);

    // Or generate a new one: nothing changes until Reset.
    await page.getByRole('button', { name: 'Generate new password', exact: true }).click();
    const field = page.getByLabel('New password for Ben');
    await expect(field).toHaveAttribute('readonly', '');
    const generated = await field.inputValue();
    expect(generated).toMatch(/^[A-Za-z2-9]{8,}$/);
    expect(generated).not.toMatch(/[0O1lI]/);
    await expectNoSeriousA11yViolations(page, 'Reset password page with a proposal');
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect(page.getByRole('status')).toContainText(generated);
    await expect(page.locator('#new-password')).toHaveText(generated);
    await screenshot(page, 'learner-reset-done', test.info());

    // Ben signs in with it in his own browser.
    const context = await browser.newContext();
    const learnerPage = await context.newPage();
    await signIn(learnerPage, ben.username, generated);
    await context.close();
  } finally {
    await setLearnerPasswordViaApi(lead, ben.username, ben.password);
  }
});

test('the lead teacher finds a learner in the student database; a private password cannot be shown', async ({ page }) => {
  const lead = demoAccount('demo.lead');
  const cara = demoAccount('demo.cara');
  // Cara chooses her own password (and then her old one again, by herself):
  // whatever staff did before, it is private now.
  const interim = newPassword('Cara');
  await changePasswordViaApi(cara.username, cara.password, interim);
  await changePasswordViaApi(cara.username, interim, cara.password);
  await signIn(page, lead.username, lead.password);
  await openFromMenu(page, 'Subscription management');
  await page.getByRole('link', { name: 'Student database', exact: true }).click();
  const row = page.getByRole('row', { name: /Cara Clark/ });
  await row.getByRole('link', { name: /Reset password/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Reset password');
  await expect(page.getByText('chosen a private password')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Show password', exact: true })).toHaveCount(0);

  // A chosen password is checked against the learner rules; nothing changes.
  await page.getByLabel('Password for Cara', { exact: true }).fill('abc');
  await page.getByRole('button', { name: 'Set this password', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Use at least');
  await expectNoSeriousA11yViolations(page, 'Reset password page with problems');

  await openFromMenu(page, 'Subscription management');
  await page.getByRole('link', { name: 'School settings', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('School settings');
  await expect(page.getByRole('heading', { name: 'Learner passwords', level: 2 })).toBeVisible();
  await expect(
    page.getByLabel('Keep copies of learner passwords that staff set, so they can be shown again'),
  ).toBeChecked();
  await expectNoSeriousA11yViolations(page, 'Learner passwords settings');
});
