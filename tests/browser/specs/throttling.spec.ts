import { expect, test, type Page } from '@playwright/test';
import { demoAccounts, expectNoSeriousA11yViolations, screenshot } from '../lib/keyward';

// R-LOCK-1: a stranger guessing at someone's username slows only the
// stranger. The delay belongs to (account, client): a browser that signed in
// to the account before keeps a device cookie and signs in as usual, while a
// new browser at the same address meets the guesser's delay.

const parent = demoAccounts().find((a) => a.role === 'parent')!;

async function signIn(page: Page, password: string): Promise<void> {
  await page.goto('/signin/username');
  await page.getByLabel('Username', { exact: true }).fill(parent.username);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

test('a known browser signs in while a stranger guesses; a new browser waits', async ({ browser, request }) => {
  test.setTimeout(120_000);
  const known = await browser.newContext();
  const knownPage = await known.newPage();
  await signIn(knownPage, parent.password);
  await expect(knownPage).toHaveURL(/\/home$/);
  await knownPage.getByRole('button', { name: 'Sign out', exact: true }).click();

  // The stranger guesses, waiting out each delay, until the next one is long.
  let failures = 0;
  while (failures < 10) {
    const reply = await request.post('/api/v1/session', {
      data: { username: parent.username, password: `guess-${failures}` },
    });
    if (reply.status() === 429) {
      const wait = Number(reply.headers()['retry-after'] ?? '1');
      await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 50));
      continue;
    }
    expect(reply.status()).toBe(401);
    failures += 1;
  }

  // A new browser at the same address meets the delay, with a readable page.
  const fresh = await browser.newContext();
  const freshPage = await fresh.newPage();
  await signIn(freshPage, parent.password);
  const alert = freshPage.getByRole('alert');
  await expect(alert).toContainText('Too many failed sign-ins');
  await expect(alert).toContainText(/try again in \d+ seconds/);
  await expectNoSeriousA11yViolations(freshPage, 'throttled password step');
  await screenshot(freshPage, 'throttled-new-browser', test.info());

  // The browser that knows the account is not slowed.
  await signIn(knownPage, parent.password);
  await expect(knownPage).toHaveURL(/\/home$/);
  await expect(knownPage.getByText(`Signed in as ${parent.username}`).first()).toBeVisible();

  await known.close();
  await fresh.close();
});
