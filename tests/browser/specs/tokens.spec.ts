import { expect, request as apiRequest, test } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, screenshot, signIn } from '../lib/keyward';

// Account Settings > API tokens (issue 13):
//   /account               link "API tokens"
//   /account/tokens        heading "API tokens"; form "Create a token": Name,
//                          checkboxes of the permissions held, "Expires after
//                          (days)", button "Create token" -> role=status, and
//                          the secret once in the read-only field "Your new token";
//                          a table of your tokens with "Revoke" links
//   /account/tokens/{id}/revoke   a confirm page: "Revoke token" or "Keep it"
// The token is then used with Playwright's request API (no cookies).

test('demo.lead creates a token, sees it once, uses it, revokes it, and it stops working', async ({ page, baseURL }, testInfo) => {
  const lead = demoAccount('demo.lead');
  await signIn(page, lead.username, lead.password);
  await page.goto('/account');
  await page.getByRole('link', { name: 'API tokens', exact: true }).click();
  await expect(page).toHaveURL(/\/account\/tokens$/);
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();

  const name = `Timetable sync ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: /View Users/ }).check();
  await page.getByLabel('Expires after (days)').fill('30');
  await page.getByRole('button', { name: 'Create token', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('will not be shown again');
  const secret = await page.getByLabel('Your new token').inputValue();
  expect(secret).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
  await screenshot(page, 'tokens-created', testInfo);
  await expectNoSeriousA11yViolations(page, 'API tokens, a token just created');

  // Shown once: the list has the token, never its secret.
  await page.goto('/account/tokens');
  const row = page.locator('table.tokens tbody tr', { hasText: name });
  await expect(row).toHaveCount(1);
  expect(await page.content()).not.toContain(secret);

  // The token works from a client of its own (no cookies).
  const client = await apiRequest.newContext({ baseURL });
  try {
    const ok = await client.get('/api/v1/users', { headers: { Authorization: `Bearer ${secret}` } });
    expect(ok.status()).toBe(200);

    await row.getByRole('link', { name: 'Revoke' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(name);
    await expectNoSeriousA11yViolations(page, 'revoke a token');
    await page.getByRole('button', { name: 'Revoke token', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/tokens$/);
    await expect(page.locator('table.tokens tbody tr', { hasText: name })).toContainText('revoked');

    const refused = await client.get('/api/v1/users', { headers: { Authorization: `Bearer ${secret}` } });
    expect(refused.status()).toBe(401);
    expect((await refused.json()).error).toBe('token_revoked');
  } finally {
    await client.dispose();
  }
});
