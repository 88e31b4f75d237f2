import { expect, test } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, screenshot, signIn, signOut } from '../lib/keyward';

// Class codes (SPEC.md §6 R-CODE-2):
//   /home (teacher)        heading "Your classes", link "Class 4B" -> /classes/{id}
//   /classes/{id}          the code big (.board-code), links "Regenerate code" and
//                          "Switch off" to a confirm page whose button of the same
//                          name does it, button "Switch on" -> role=status notices
//   /activate              link "Have a class code? Join a class" -> /join
//   /join                  "Class code", "First name", "Last name", "Username",
//                          "Password", "Confirm password", button "Join class"
//                          -> /signin?notice=joined, or role=alert with the problems
//   /home (learner)        heading "Join another class", button "Join class"
//                          -> /classes/join with a role=status notice
//
// The suite shares one demo server: the class code is left switched on.

test.describe('class codes', () => {
  test('a teacher shows the code and a new learner joins the class with it', async ({ browser }) => {
    const teacher = demoAccount('demo.teacher');
    const staff = await browser.newContext();
    const page = await staff.newPage();
    await signIn(page, teacher.username, teacher.password);
    await expect(page.getByRole('heading', { name: 'Your classes', level: 2 })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'teacher home');
    await page.getByRole('link', { name: 'Class 4B', exact: true }).click();
    await expect(page).toHaveURL(/\/classes\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { name: 'Class 4B', level: 1 })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'class page');
    await screenshot(page, 'class-code-1-class-page', test.info());

    await page.getByRole('link', { name: 'Switch off', exact: true }).click();
    await page.getByRole('button', { name: 'Switch off', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('switched off');
    await expect(page.getByRole('button', { name: 'Switch on', exact: true })).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'class page, code off');
    await screenshot(page, 'class-code-2-switched-off', test.info());
    await page.getByRole('button', { name: 'Switch on', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('switched on');

    const before = (await page.locator('.board-code [aria-hidden=true]').textContent())?.trim() ?? '';
    await page.getByRole('link', { name: 'Regenerate code', exact: true }).click();
    await page.getByRole('button', { name: 'Regenerate code', exact: true }).click();
    await expect(page.getByRole('status')).toContainText('old code no longer works');
    const code = (await page.locator('.board-code [aria-hidden=true]').textContent())?.trim() ?? '';
    expect(code).toMatch(/^[A-Z2-9]{6}$/);
    expect(code).not.toBe(before);
    await screenshot(page, 'class-code-3-regenerated', test.info());
    await signOut(page);
    await staff.close();

    const learner = await browser.newContext();
    const join = await learner.newPage();
    await join.goto('/activate');
    await join.getByRole('link', { name: 'Have a class code? Join a class', exact: true }).click();
    await expect(join).toHaveURL(/\/join$/);
    await expect(join.getByRole('heading', { name: 'Join a class', level: 1 })).toBeVisible();
    await expectNoSeriousA11yViolations(join, 'join page');
    await screenshot(join, 'join-1-form', test.info());

    const username = `join.${Math.random().toString(36).slice(2, 8)}`;
    const password = 'TigerApple42';
    // Typed as a child copies it from the board: small letters with a space.
    await join.getByLabel('Class code', { exact: true }).fill(`${code.slice(0, 3).toLowerCase()} ${code.slice(3).toLowerCase()}`);
    await join.getByLabel('First name', { exact: true }).fill('Zoe');
    await join.getByLabel('Last name', { exact: true }).fill('Zhang');
    await join.getByLabel('Username', { exact: true }).fill(username);
    await join.getByLabel('Password', { exact: true }).fill(password);
    await join.getByLabel('Confirm password', { exact: true }).fill(`${password}x`);
    await join.getByRole('button', { name: 'Join class', exact: true }).click();
    await expect(join.getByRole('alert')).toContainText("don't match");
    await expectNoSeriousA11yViolations(join, 'join page with a problem');
    await screenshot(join, 'join-2-mismatch', test.info());

    await join.getByLabel('Password', { exact: true }).fill(password);
    await join.getByLabel('Confirm password', { exact: true }).fill(password);
    await join.getByRole('button', { name: 'Join class', exact: true }).click();
    await expect(join).toHaveURL(/\/signin\?notice=joined$/);
    await expect(join.getByRole('status')).toContainText('You are in the class');
    await expectNoSeriousA11yViolations(join, 'signed-in notice');

    await signIn(join, username, password);
    await expect(join.getByRole('heading', { name: 'Join another class', level: 2 })).toBeVisible();
    await expectNoSeriousA11yViolations(join, 'learner home');
    await join.getByLabel('Class code', { exact: true }).fill(code);
    await join.getByRole('button', { name: 'Join class', exact: true }).click();
    await expect(join.getByRole('status')).toContainText('You are already in Class 4B.');
    await expectNoSeriousA11yViolations(join, 'join another class');
    await join.getByLabel('Class code', { exact: true }).fill('ZZZZZZ');
    await join.getByRole('button', { name: 'Join class', exact: true }).click();
    await expect(join.getByRole('alert')).toContainText("doesn't work");
    await expectNoSeriousA11yViolations(join, 'join another class with a problem');
    await screenshot(join, 'join-3-another-class-problem', test.info());
    await signOut(join);
    await learner.close();
  });
});
