import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, screenshot, signIn, signOut } from '../lib/keyward';

// Passkeys (issue 12, item 3) in Chromium, with a virtual authenticator from
// the DevTools protocol (WebAuthn.addVirtualAuthenticator: CTAP2, internal,
// resident keys, user verification):
//   /account/passkeys   heading "Passkeys", "Name of the passkey", "Current password",
//                       button "Add a passkey" -> role=status "Your passkey has been added…",
//                       the list (name, added, last used), link "Remove <name>"
//   /account/passkeys/{id}/remove  "Current password", button "Remove"
//   /signin/verify      after the password: heading "Two-step verification", button "Use a passkey"
//   /signin             button "Sign in with a passkey"
// Without JavaScript the pages say that passkeys need it.
//
// WebAuthn refuses an IP address as relying party: scripts/browser-test serves
// the demo at http://localhost:<port>. The suite shares one demo server, and a
// passkey makes it the second step of every password sign-in, so the test
// removes the passkey again (also when it fails half-way).

const hostname = new URL(process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080').hostname;
const onIpAddress = /^[0-9.]+$|^\[/.test(hostname);

async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** The password step, which leads to the second step for an account with a passkey. */
async function enterPassword(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/**
 * Removes whatever passkeys the account still has, through the API with the
 * page's own session (signing in again with the password and the virtual
 * authenticator when the test left the page signed out).
 */
async function removeLeftoverPasskeys(page: Page, username: string, password: string): Promise<void> {
  let me = await page.request.get('/api/v1/me');
  if (me.status() !== 200) {
    await enterPassword(page, username, password);
    if (page.url().includes('/signin/verify')) {
      await page.getByRole('button', { name: 'Use a passkey', exact: true }).click();
      await expect(page).toHaveURL(/\/home$/);
    }
    me = await page.request.get('/api/v1/me');
  }
  expect(me.status(), 'signed in to clean up').toBe(200);
  const { csrf_token: csrf } = (await me.json()) as { csrf_token: string };
  const listed = (await (await page.request.get('/api/v1/me/passkeys')).json()) as { id: string }[];
  for (const passkey of listed) {
    const removed = await page.request.delete(`/api/v1/me/passkeys/${passkey.id}`, {
      headers: { 'X-CSRF-Token': csrf },
      data: { current_password: password },
    });
    expect(removed.status(), await removed.text()).toBe(204);
  }
}

test.describe('Passkeys', () => {
  test.skip(onIpAddress, 'passkeys need the server at a domain name (scripts/browser-test uses localhost)');

  test('demo.teacher adds a passkey, uses it as the second step and from the first screen, and removes it', async ({
    page,
  }) => {
    const teacher = demoAccount('demo.teacher');
    const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
    try {
      await signIn(page, teacher.username, teacher.password);
      await fromMenu(page, 'Account Settings');
      await page.getByRole('link', { name: 'Passkeys', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/passkeys$/);
      await expect(page.getByRole('heading', { name: 'Passkeys', level: 1 })).toBeVisible();
      await expect(page.getByText('You have no passkeys yet.')).toBeVisible();
      await expect(page.getByText(/Adding a passkey needs JavaScript/)).toBeHidden();
      await expectNoSeriousA11yViolations(page, 'Passkeys, none yet');

      // A wrong password is refused, and nothing is created.
      await page.getByLabel('Name of the passkey', { exact: true }).fill('Test laptop');
      await page.getByLabel('Current password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText('Your current password is not right.');
      expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(0);

      await page.getByLabel('Current password', { exact: true }).fill(teacher.password);
      await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/passkeys\?notice=added$/);
      await expect(page.getByRole('status')).toContainText('Your passkey has been added.');
      await expect(page.getByRole('cell', { name: 'Test laptop', exact: true })).toBeVisible();
      await screenshot(page, 'passkeys-1-added', test.info());
      await expectNoSeriousA11yViolations(page, 'Passkeys, one added');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0].isResidentCredential, 'a discoverable credential').toBe(true);
      expect(credentials[0].rpId).toBe(hostname);

      // The password, then the passkey as the second step.
      await signOut(page);
      await enterPassword(page, teacher.username, teacher.password);
      await expect(page).toHaveURL(/\/signin\/verify$/);
      await expect(page.getByRole('heading', { name: 'Two-step verification', level: 1 })).toBeVisible();
      await expect(page.getByLabel('6-digit code')).toHaveCount(0);
      await screenshot(page, 'passkeys-2-second-step', test.info());
      await expectNoSeriousA11yViolations(page, 'Second step with a passkey');
      await page.getByRole('button', { name: 'Use a passkey', exact: true }).click();
      await expect(page).toHaveURL(/\/home$/);
      await expect(page.getByText(`Signed in as ${teacher.username}`).first()).toBeVisible();

      // No username, no password: Sign in with a passkey.
      await signOut(page);
      await expectNoSeriousA11yViolations(page, 'First screen with passkeys');
      await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
      await expect(page).toHaveURL(/\/home$/);
      await expect(page.getByText(`Signed in as ${teacher.username}`).first()).toBeVisible();
      const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      expect(after.credentials[0].signCount).toBeGreaterThanOrEqual(2);

      // The list shows it used; removing it asks for the password again.
      await page.goto('/account/passkeys');
      await expect(page.locator('tr[data-passkey="Test laptop"] time')).toHaveCount(2);
      await page.getByRole('link', { name: 'Remove Test laptop', exact: true }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Remove the passkey "Test laptop"');
      await expectNoSeriousA11yViolations(page, 'Remove a passkey');
      await page.getByLabel('Current password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText('Your current password is not right.');
      await page.getByLabel('Current password', { exact: true }).fill(teacher.password);
      await page.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/passkeys\?notice=removed$/);
      await expect(page.getByRole('status')).toContainText('The passkey has been removed.');
      await expect(page.getByText('You have no passkeys yet.')).toBeVisible();

      // Removed: the passkey the device still holds signs nobody in.
      await signOut(page);
      await page.getByRole('button', { name: 'Sign in with a passkey', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText('That passkey was not accepted.');
      await expect(page).toHaveURL(/\/signin$/);
    } finally {
      await removeLeftoverPasskeys(page, teacher.username, teacher.password);
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId }).catch(() => undefined);
    }
  });

  test('without JavaScript the pages say that passkeys need it', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto('/signin');
      await expect(page.getByText('Signing in with a passkey needs JavaScript')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toBeHidden();
      const lead = demoAccount('demo.lead');
      await signIn(page, lead.username, lead.password);
      await page.goto('/account/passkeys');
      await expect(page.getByText(/Adding a passkey needs JavaScript/)).toBeVisible();
      await expect(page.getByRole('button', { name: 'Add a passkey' })).toBeHidden();
    } finally {
      await context.close();
    }
  });
});
