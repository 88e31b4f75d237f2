// The dark scheme (issue 15): app.css switches its colour tokens when the
// system asks for dark (`prefers-color-scheme: dark`). These pages, one of
// each kind of component (forms with an error, alerts, tables, buttons, the
// side bar and the phone menu), must keep AA contrast there too: axe-core
// finds no serious or critical problem, and the page really is dark.
import { expect, test, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, screenshot, signIn } from '../lib/keyward';

test.use({ colorScheme: 'dark' });

async function expectDark(page: Page, name: string): Promise<void> {
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = (background.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
  expect(r + g + b, `${name}: the page background ${background} is dark`).toBeLessThan(150);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await expectNoSeriousA11yViolations(page, `${name} (dark, ${width} px)`);
    await screenshot(page, `dark_${name}-${width}`, test.info());
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('signed-out pages keep their contrast in the dark scheme', async ({ page }) => {
  await page.goto('/signin');
  await expectDark(page, 'signin');
  await page.goto('/signin/username');
  await page.getByLabel('Username', { exact: true }).fill('nobody.here');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert').first()).toBeVisible();
  await expectDark(page, 'signin-error');
  await page.goto('/no/such/page');
  await expectDark(page, 'not-found');
});

test('a teacher\'s pages keep their contrast in the dark scheme', async ({ page }) => {
  const teacher = demoAccount('demo.teacher');
  await signIn(page, teacher.username, teacher.password);
  await expectDark(page, 'teacher-home');
  await page.goto('/classes');
  await expectDark(page, 'teacher-class-database');
  await page.goto('/account');
  await expectDark(page, 'teacher-account');
  await page.setViewportSize({ width: 390, height: 800 });
  await page.locator('details.menu > summary').click();
  await expectNoSeriousA11yViolations(page, 'the open phone menu (dark)');
  await screenshot(page, 'dark_teacher-menu-open-390', test.info());
});
