import { expect, test } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, ownSecondFactorViaApi, screenshot, signIn } from '../lib/keyward';

// Single sign-on configuration (issue 14), against the page contract:
//   /home                    (lead teacher) section "Single sign-on", link "Single sign-on"
//   /schools/{id}/sso        heading "Single sign-on"; table of connected providers with "Remove"
//                            links; the read-only field "Redirect URI"; <details> "Google Workspace"
//                            and "Microsoft Entra"; form "Add provider": Name, Issuer, Client ID,
//                            Client secret, Scopes, claim radios, role checkboxes, button
//                            "Add provider" -> ?notice=added (role=status "Provider connected")
//                            or 422 with the reason under the refused field (p.field-error)
//   /schools/{id}/sso/{p}/remove   confirm page: "Remove provider" or "Keep it"
//   /signin and the password step  links "Sign in with <name>" to /sso/{p}/start
// The provider is removed again at the end, so the other specs see a sign-in
// page without single sign-on.

/** Turns demo.lead's authenticator app off again (connecting a provider needs one). */
let turnOff: (() => Promise<void>) | undefined;

test.afterAll(async () => {
  if (turnOff) await turnOff();
  turnOff = undefined;
});

test('demo.lead connects a provider, copies the redirect URI, sees its button on sign-in, removes it', async ({ page, browser, baseURL }, testInfo) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.getByRole('main').getByRole('link', { name: 'Single sign-on', exact: true }).click();
  await expect(page).toHaveURL(/\/schools\/[0-9a-f-]+\/sso$/);
  await expect(page.getByRole('heading', { name: 'Single sign-on', level: 1 })).toBeVisible();
  const redirectUri = await page.getByLabel('Redirect URI', { exact: true }).inputValue();
  expect(redirectUri).toBe(`${baseURL}/sso/callback`);
  await page.getByText('Microsoft Entra', { exact: true }).click();
  await expect(page.getByText('App registrations → New registration')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'Single sign-on, no provider yet');

  const name = `Google ${Date.now() % 100000}`;
  const secret = 'GOCSPX-browser-test-secret-never-shown';
  const fill = async (issuer: string) => {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Issuer', { exact: true }).fill(issuer);
    await page.getByLabel('Client ID', { exact: true }).fill('1234.apps.googleusercontent.com');
    await page.getByLabel('Client secret', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Add provider', exact: true }).click();
  };
  // Without two-step verification on their own account: refused, with the way to turn it on.
  await fill('https://accounts.google.com');
  await expect(page.getByText('Turn on two-step verification on your own account first')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Turn on two-step verification', exact: true })).toHaveAttribute('href', '/account/mfa');
  await expect(page.getByText('No provider is connected yet.')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'Single sign-on, refused without two-step verification');
  turnOff = await ownSecondFactorViaApi('demo.lead');

  // A plain-http issuer is refused, said under the Issuer field; the secret is not written back.
  await fill('http://accounts.google.com');
  await expect(page.locator('#sso-issuer-error')).toContainText('https');
  await expect(page.getByLabel('Issuer', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Client secret', { exact: true })).toHaveValue('');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  expect(await page.content()).not.toContain(secret);
  await expectNoSeriousA11yViolations(page, 'Single sign-on, a refused issuer');

  await fill('https://accounts.google.com');
  await expect(page.getByRole('status')).toContainText('Provider connected');
  const row = page.locator('table.sso-providers tbody tr', { hasText: name });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('https://accounts.google.com');
  expect(await page.content()).not.toContain(secret);
  await screenshot(page, 'sso-config-connected', testInfo);
  await expectNoSeriousA11yViolations(page, 'Single sign-on, one provider');
  const provider = await row.getAttribute('data-provider');
  expect(provider).toMatch(/^[0-9a-f-]{36}$/);

  // An anonymous visitor sees the button on the first screen and on the password step.
  const visitor = await browser.newContext();
  try {
    const anon = await visitor.newPage();
    await anon.goto('/signin');
    const button = anon.getByRole('link', { name: `Sign in with ${name}`, exact: true });
    await expect(button).toHaveAttribute('href', `/sso/${provider}/start`);
    await expectNoSeriousA11yViolations(anon, 'sign-in with a Sign in with … button');
    await anon.getByRole('link', { name: 'Sign in', exact: true }).click();
    await anon.getByLabel('Username', { exact: true }).fill('nobody.at.all');
    await anon.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(anon.getByRole('link', { name: `Sign in with ${name}`, exact: true })).toHaveAttribute(
      'href',
      `/sso/${provider}/start`,
    );
  } finally {
    await visitor.close();
  }

  // Remove, after a confirm page that says what happens to SSO-only people.
  await row.getByRole('link', { name: 'Remove' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(name);
  await expect(page.getByText(`People who sign in only with ${name}`)).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'remove a provider');
  await page.getByRole('button', { name: 'Remove provider', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Provider removed');
  await page.goto('/signin');
  await expect(page.getByRole('link', { name: `Sign in with ${name}`, exact: true })).toHaveCount(0);
});
