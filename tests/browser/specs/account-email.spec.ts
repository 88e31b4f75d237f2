import { expect, request, test, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, mailIds, newMailTo, notMeLinkOf, screenshot, signIn, waitForMail } from '../lib/keyward';

// Account Settings > Email (SPEC.md §8 R-MFA-1: changing the email address
// asks for the password again), against the page contract:
//   /account         link "Email" (/account/email), the address under "Email"
//   /account/email   h1 "Email", "Current email address", the fields "New email address"
//                    (type email, autocomplete email) and "Current password"
//                    (autocomplete current-password), button "Update Email"
//                    -> role=status "Your email address has been updated…" or role=alert
// The old address gets "Your keyward email address was changed", naming the
// new one masked, with a "this wasn't me" link.
//
// The suite shares one demo server, and specs/forgot-password.spec.ts mails
// demo.parent at her address: the test puts it back, through the page without
// JavaScript, or through the API when the test failed.

const BASE_URL = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';
const OLD = 'paula.adams@family.example';
const MAIL_TIMEOUT = 30_000;

/** Through the API: the address back to `OLD` when it is not (the clean-up of a failed test). */
async function putAddressBack(username: string, password: string): Promise<void> {
  const api = await request.newContext({ baseURL: BASE_URL });
  try {
    const session = await api.post('/api/v1/session', { data: { username, password } });
    expect(session.status(), await session.text()).toBe(200);
    const { csrf_token: csrf, user } = (await session.json()) as { csrf_token: string; user: { email: string } };
    if (user.email !== OLD) {
      const back = await api.post('/api/v1/me/email', {
        headers: { 'X-CSRF-Token': csrf },
        data: { password, email: OLD },
      });
      expect(back.status(), await back.text()).toBe(200);
    }
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
  } finally {
    await api.dispose();
  }
}

async function submitEmail(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('New email address', { exact: true }).fill(email);
  await page.getByLabel('Current password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Update Email', exact: true }).click();
}

test('demo.parent changes her email address after typing her password; the old address is told', async ({
  page,
  browser,
}) => {
  const parent = demoAccount('demo.parent');
  const fresh = `paula.${Date.now()}@home.example`;
  const shot = (step: string) => screenshot(page, `account-email-${step}`, test.info());
  try {
    await signIn(page, parent.username, parent.password);
    await fromMenu(page, 'Account Settings');
    await page.getByRole('link', { name: 'Email', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/email$/);
    await expect(page.getByRole('heading', { name: 'Email', level: 1 })).toBeVisible();
    await expect(page.locator('#current-email')).toHaveText(OLD);
    const address = page.getByLabel('New email address', { exact: true });
    await expect(address).toHaveAttribute('type', 'email');
    await expect(address).toHaveAttribute('autocomplete', 'email');
    await expect(page.getByLabel('Current password', { exact: true })).toHaveAttribute('autocomplete', 'current-password');
    await expectNoSeriousA11yViolations(page, 'Email page');
    await shot('1-form');

    // A wrong password changes nothing; the typed address stays in the field.
    await submitEmail(page, fresh, `${parent.password}-wrong`);
    await expect(page.getByRole('alert')).toContainText('Your current password is not right.');
    await expect(page.getByLabel('New email address', { exact: true })).toHaveValue(fresh);
    await expect(page.locator('#current-email')).toHaveText(OLD);
    await expectNoSeriousA11yViolations(page, 'Email page with a wrong password');
    await shot('2-wrong-password');

    // Not an address.
    await submitEmail(page, 'paula at home', parent.password);
    await expect(page.getByRole('alert')).toContainText('Enter an email address like name@example.org.');
    await expect(page.getByRole('status')).toHaveCount(0);

    // The new address and the right password.
    const before = await mailIds();
    await submitEmail(page, fresh, parent.password);
    await expect(page.getByRole('status')).toContainText('Your email address has been updated');
    await expect(page.locator('#current-email')).toHaveText(fresh);
    await expectNoSeriousA11yViolations(page, 'Email page after the change');
    await shot('3-updated');
    await page.goto('/account');
    await expect(page.getByRole('main')).toContainText(fresh);

    // The old address is told, the new one masked; "this wasn't me" asks first.
    const notice = await waitForMail(newMailTo(OLD, 'email address was changed', before), MAIL_TIMEOUT);
    expect(notice.text).toContain('p***@home.example');
    expect(notice.text).not.toContain(fresh);
    expect(notice.html).not.toContain(fresh);
    await page.goto(notMeLinkOf(notice));
    await expect(page.getByRole('heading', { name: "Wasn't you?", level: 1 })).toBeVisible();

    // Back to the old address, in a browser without JavaScript: the page works the same.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    try {
      const noJs = await plain.newPage();
      await signIn(noJs, parent.username, parent.password);
      await noJs.goto('/account/email');
      const again = await mailIds();
      await submitEmail(noJs, OLD, parent.password);
      await expect(noJs.getByRole('status')).toContainText('Your email address has been updated');
      await expect(noJs.locator('#current-email')).toHaveText(OLD);
      await waitForMail(newMailTo(fresh, 'email address was changed', again), MAIL_TIMEOUT);
    } finally {
      await plain.close();
    }
  } finally {
    try {
      await putAddressBack(parent.username, parent.password);
    } catch (err) {
      console.error(`could not put back the email address of ${parent.username}: ${String(err)}`);
    }
  }
});
