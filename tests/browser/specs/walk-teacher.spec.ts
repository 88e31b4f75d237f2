import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, request, test, type Locator, type Page } from '@playwright/test';
import {
  changePasswordViaApi,
  demoAccount,
  fromMenu,
  newPassword,
  SCREENSHOT_DIR,
  screenshot,
  setLearnerPasswordViaApi,
  signIn,
} from '../lib/keyward';
import { checkPage } from '../lib/walk';

// The page walk of issue 15 for the teachers' pages: the class database, a
// class's page and its confirm steps, User accounts and Show access codes,
// the whole-class reset and its result, a learner's Reset password, the
// student database and Import learners — as the teacher, the lead teacher
// and (where they may open them) the platform admin, each page checked by
// checkPage (no sideways scroll at 390 px, axe, targets of 24 px,
// screenshots), the login cards printed, and one flow by keyboard alone.
//
// Page contract added here:
//   every page          breadcrumbs (nav "Breadcrumb") whose links the person may open
//   /classes            per class "Reset password for the whole class" and "User accounts";
//                       per learner "Reset password", or "Show access codes" for one who
//                       has not set up their account
//   /classes/{id}       "Learners (N)": the class's learners; "Regenerate code" and
//                       "Switch off" lead to a confirm page (.confirm) that changes nothing
//   printed             .login-card: school, "Sign in at <address>", name, username and
//                       password or access code
//
// The suite shares one demo server: every demo learner's password changed
// here is put back as seeded (Amy's and Ben's set by staff; Cara's is her
// own), so the suite can run twice on one server. Class 5C's learners are
// not in demo-accounts.txt and no spec signs in as them.

const CLASS = 'Class 4B';
const SECOND_CLASS = 'Class 5C';
const SCHOOL = 'Riverside Primary School';
const PENDING = 'Dev Patel';
const ADDRESS = (process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');

/** Puts the seeded Class 4B learners' passwords back, as class-reset.spec.ts does. */
async function restoreClass4B(): Promise<void> {
  const lead = demoAccount('demo.lead');
  for (const username of ['demo.amy', 'demo.ben']) {
    await setLearnerPasswordViaApi(lead, username, demoAccount(username).password);
  }
  const cara = demoAccount('demo.cara');
  const interim = newPassword('Cara');
  await setLearnerPasswordViaApi(lead, cara.username, interim);
  await changePasswordViaApi(cara.username, interim, cara.password);
}

/** The breadcrumb trail's link labels. */
async function crumbs(page: Page): Promise<string[]> {
  const links = await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link').allTextContents();
  return links.map((l) => l.trim());
}

/** Every breadcrumb link opens (no dead end). */
async function expectCrumbsOpen(page: Page): Promise<void> {
  const hrefs = await page
    .getByRole('navigation', { name: 'Breadcrumb' })
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
  expect(hrefs.length).toBeGreaterThan(0);
  for (const href of hrefs) {
    const response = await page.request.get(href);
    expect(response.status(), `breadcrumb ${href}`).toBe(200);
  }
}

/** A row of the table (or stacked card) holding `text`. */
function row(scope: Page | Locator, text: string): Locator {
  return scope.getByRole('row').filter({ hasText: text });
}

/**
 * Printed as on paper: the login cards show (and nothing of the frame), each
 * with the school, the address and a name; at the inside width of A4
 * (186 mm) and Letter (8.5 in less the margins) the cards fit side by side.
 * Returns the cards' texts.
 */
async function expectPrintedCards(page: Page, name: string, count?: number): Promise<string[]> {
  await page.emulateMedia({ media: 'print' });
  try {
    const cards = page.locator('.login-card');
    if (count !== undefined) await expect(cards).toHaveCount(count);
    await expect(cards.first()).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.locator('.topbar')).toBeHidden();
    await expect(page.locator('.crumbs')).toBeHidden();
    const texts = await cards.allInnerTexts();
    for (const text of texts) {
      expect(text).toContain(SCHOOL);
      expect(text).toContain(`Sign in at ${ADDRESS}`);
    }
    for (const paper of [
      { name: 'A4', inside: Math.floor(((210 - 24) / 25.4) * 96) },
      { name: 'Letter', inside: Math.floor(((8.5 * 25.4 - 24) / 25.4) * 96) },
    ]) {
      await page.setViewportSize({ width: paper.inside, height: 1000 });
      const sticksOut = await page.evaluate((width) => {
        const out: string[] = [];
        document.querySelectorAll('.login-card, .login-card *').forEach((el) => {
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.right > width + 0.5) out.push(`${el.className || el.tagName} ends at ${Math.round(r.right)}`);
        });
        return out;
      }, paper.inside);
      expect(sticksOut, `${name}: cards wider than ${paper.name}`).toEqual([]);
      const columns = await page.evaluate(() => {
        const lefts = new Set([...document.querySelectorAll('.login-card')].map((c) => Math.round(c.getBoundingClientRect().left)));
        return lefts.size;
      });
      expect(columns, `${name}: two cards to a row on ${paper.name}`).toBe(Math.min(2, texts.length));
      await screenshot(page, `walk/${name}-print-${paper.name}`, test.info());
    }
    // A real PDF of each paper size, kept beside the screenshots to look at.
    for (const format of ['A4', 'Letter'] as const) {
      const pdf = await page.pdf({ format, preferCSSPageSize: false });
      expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
      fs.mkdirSync(path.join(SCREENSHOT_DIR, 'walk'), { recursive: true });
      fs.writeFileSync(path.join(SCREENSHOT_DIR, 'walk', `${name}-${format}.pdf`.replace(/[^A-Za-z0-9._-]+/g, '_')), pdf);
    }
    return texts;
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ media: 'screen' });
  }
}

/** Class ids and the school id, as the lead teacher's API sees them. */
async function demoIds(): Promise<{ school: string; classes: Map<string, string> }> {
  const lead = demoAccount('demo.lead');
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  try {
    const signedIn = await api.post('/api/v1/session', { data: { username: lead.username, password: lead.password } });
    expect(signedIn.status()).toBe(200);
    const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
    const me = (await (await api.get('/api/v1/me')).json()) as { school_id: string };
    const list = (await (await api.get('/api/v1/classes')).json()) as Array<{ id: string; name: string }>;
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
    return { school: me.school_id, classes: new Map(list.map((c) => [c.name, c.id])) };
  } finally {
    await api.dispose();
  }
}

test.describe('walk: the teachers’ pages', () => {
  // Each test looks at a dozen pages at two widths with axe-core.
  test.describe.configure({ timeout: 180_000 });
  test('as the teacher: class database, class page, confirm steps, accounts, whole-class reset, a learner', async ({
    page,
  }) => {
    const teacher = demoAccount('demo.teacher');
    try {
      await signIn(page, teacher.username, teacher.password);
      await fromMenu(page, 'Class database');
      await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
      await expect(page.locator('.intro')).toBeVisible();
      const block = page.getByRole('region', { name: CLASS, exact: true });
      await expect(block.getByRole('link', { name: `Reset password for the whole class (${CLASS})`, exact: true })).toBeVisible();
      await expect(row(block, 'Amy Adams').getByRole('link', { name: 'Reset password for Amy Adams', exact: true })).toBeVisible();
      // Dev has not set up her account: Show access codes, not Reset password.
      const dev = row(block, PENDING);
      await expect(dev.getByRole('link', { name: /Reset password/ })).toHaveCount(0);
      await expect(dev.getByRole('link', { name: `Show access codes for ${PENDING}`, exact: true })).toBeVisible();
      await checkPage(page, 'teacher-class-database', test.info());
      // Printed, the class list is a plain table under the page's heading.
      await page.emulateMedia({ media: 'print' });
      await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
      await expect(block.getByRole('table')).toBeVisible();
      await expect(block.locator('.row-action').first()).toBeHidden();
      await expect(block.getByRole('link', { name: /Reset password for the whole class/ })).toBeHidden();
      await expect(page.locator('.sidebar')).toBeHidden();
      await screenshot(page, 'walk/teacher-class-database-print', test.info());
      await page.emulateMedia({ media: 'screen' });

      // The class page: breadcrumbs, the learners, the way on.
      await block.getByRole('link', { name: CLASS, exact: true }).click();
      await expect(page.getByRole('heading', { name: CLASS, level: 1 })).toBeVisible();
      expect(await crumbs(page)).toEqual(['Home', 'Class database']);
      const learners = page.getByRole('region', { name: /^Learners \(\d+\)$/ });
      for (const name of ['Amy Adams', 'Ben Brown', 'Cara Clark', PENDING]) {
        await expect(row(learners, name)).toHaveCount(1);
      }
      await expect(row(learners, 'Ben Brown').getByRole('link', { name: 'Reset password for Ben Brown' })).toBeVisible();
      await expect(row(learners, PENDING).getByRole('link', { name: /Show access codes/ })).toBeVisible();
      await expect(page.getByRole('link', { name: 'User accounts', exact: true })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Reset password for the whole class', exact: true })).toBeVisible();
      await checkPage(page, 'teacher-class-page', test.info());
      const classUrl = page.url();
      const code = (await page.locator('.board-code [aria-hidden=true]').innerText()).trim();

      // Regenerate code and Switch off ask first; going back changes nothing.
      for (const [link, heading, keep] of [
        ['Regenerate code', `Give ${CLASS} a new class code?`, 'Keep this code'],
        ['Switch off', `Switch off the class code of ${CLASS}?`, 'Keep it on'],
      ]) {
        await page.getByRole('link', { name: link, exact: true }).click();
        await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
        await expect(page.locator('.confirm')).toContainText(code);
        expect(await crumbs(page)).toEqual(['Home', 'Class database', CLASS]);
        await checkPage(page, `teacher-confirm-${link}`, test.info());
        await page.getByRole('link', { name: keep, exact: true }).click();
        await expect(page).toHaveURL(classUrl);
        await expect(page.locator('.board-code [aria-hidden=true]')).toHaveText(code);
      }

      // User accounts, then Show access codes, printed as cards.
      await page.getByRole('link', { name: 'User accounts', exact: true }).click();
      expect(await crumbs(page)).toEqual(['Home', 'Class database', CLASS]);
      await checkPage(page, 'teacher-user-accounts', test.info());
      await page.getByRole('link', { name: 'Show access codes', exact: true }).click();
      expect(await crumbs(page)).toEqual(['Home', 'Class database', CLASS, 'User accounts']);
      await expect(page.getByRole('button', { name: 'Print cards', exact: true })).toBeVisible();
      await checkPage(page, 'teacher-show-access-codes', test.info());
      const cards = await expectPrintedCards(page, 'teacher-class-cards');
      const amy = cards.find((c) => c.includes('Amy Adams'));
      expect(amy).toContain('demo.amy');
      expect(amy).toContain(demoAccount('demo.amy').password);
      const devCard = cards.find((c) => c.includes(PENDING));
      expect(devCard).toContain('Use a code');
      expect(devCard).toMatch(/[A-Za-z0-9]{4,}-[A-Za-z0-9]{4,}/);

      // The whole-class reset: a confirm box on the form, then the result.
      await page.goto(classUrl);
      await page.getByRole('link', { name: 'Reset password for the whole class', exact: true }).click();
      await expect(page.getByRole('heading', { name: `Reset password for ${CLASS}`, level: 1 })).toBeVisible();
      expect(await crumbs(page)).toEqual(['Home', 'Class database', CLASS]);
      await expect(page.locator('.confirm')).toContainText('a new password when you press Reset');
      await checkPage(page, 'teacher-class-reset-form', test.info());
      await page.getByRole('button', { name: 'Reset', exact: true }).click();
      await expect(page.getByRole('heading', { name: `New passwords for ${CLASS}`, level: 1 })).toBeVisible();
      await checkPage(page, 'teacher-class-reset-result', test.info());
      const printed = await expectPrintedCards(page, 'teacher-class-reset-cards');
      expect(printed.some((c) => c.includes('Ben Brown') && c.includes('demo.ben'))).toBe(true);
      // Dev was left alone: her Show access codes is a link to her code.
      const devLink = page.getByRole('link', { name: `Show access codes for ${PENDING}`, exact: true });
      await devLink.click();
      await expect(page).toHaveURL(/\/accounts\/codes#learner-[0-9a-f-]+$/);
      await expect(page.locator('tr:target')).toContainText(PENDING);

      // One learner: Generate new password, Reset, and her card.
      await fromMenu(page, 'Class database');
      await row(page.getByRole('region', { name: CLASS, exact: true }), 'Amy Adams')
        .getByRole('link', { name: 'Reset password for Amy Adams' })
        .click();
      expect(await crumbs(page)).toEqual(['Home', 'Class database']);
      await expectCrumbsOpen(page);
      await checkPage(page, 'teacher-learner-password', test.info());
      await page.getByRole('button', { name: 'Generate new password', exact: true }).click();
      await checkPage(page, 'teacher-learner-password-proposal', test.info());
      const proposal = await page.getByLabel('New password for Amy').inputValue();
      await page.getByRole('button', { name: 'Reset', exact: true }).click();
      await expect(page.locator('#new-password')).toHaveText(proposal);
      await checkPage(page, 'teacher-learner-password-done', test.info());
      const card = await expectPrintedCards(page, 'teacher-learner-card', 1);
      expect(card[0]).toContain('Amy Adams');
      expect(card[0]).toContain(proposal);
    } finally {
      await restoreClass4B();
    }
  });

  test('as the lead teacher: student database, school accounts, Class 5C reset, roster import', async ({ page }) => {
    const lead = demoAccount('demo.lead');
    await signIn(page, lead.username, lead.password);
    await fromMenu(page, 'Subscription management');
    await page.getByRole('main').getByRole('link', { name: 'Student database', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Student database', level: 1 })).toBeVisible();
    expect(await crumbs(page)).toEqual(['Home', 'Subscription management']);
    await expect(page.locator('.intro')).toContainText(SCHOOL);
    const dev = row(page.getByRole('table'), PENDING);
    await expect(dev.getByRole('link', { name: /Reset password/ })).toHaveCount(0);
    await expect(dev.getByRole('link', { name: `Show access codes for ${PENDING}` })).toHaveAttribute(
      'href',
      /^\/school\/accounts\/codes#learner-/,
    );
    await checkPage(page, 'lead-student-database', test.info());

    // Cara's page from the student database: back to it, not a dead end.
    await row(page.getByRole('table'), 'Cara Clark').getByRole('link', { name: /Reset password/ }).click();
    expect(await crumbs(page)).toEqual(['Home', 'Subscription management', 'Student database']);
    await expect(page.getByRole('link', { name: 'Back to Student database', exact: true })).toBeVisible();
    await expectCrumbsOpen(page);
    await checkPage(page, 'lead-learner-password-private', test.info());

    await fromMenu(page, 'Class database');
    await expect(page.getByRole('region', { name: SECOND_CLASS, exact: true })).toBeVisible();
    await checkPage(page, 'lead-class-database', test.info());

    // The school's User accounts and its cards.
    await page.goto('/school/accounts');
    expect(await crumbs(page)).toEqual(['Home', 'Subscription management']);
    await checkPage(page, 'lead-school-accounts', test.info());
    await page.getByRole('link', { name: 'Show access codes', exact: true }).click();
    await checkPage(page, 'lead-school-codes', test.info());
    const cards = await expectPrintedCards(page, 'lead-school-cards');
    expect(cards.some((c) => c.includes(SECOND_CLASS) && c.includes('eli.evans'))).toBe(true);

    // Class 5C (no spec signs in as its learners): reset, with the lead's crumbs.
    await fromMenu(page, 'Class database');
    await page
      .getByRole('region', { name: SECOND_CLASS, exact: true })
      .getByRole('link', { name: /Reset password for the whole class/ })
      .click();
    await checkPage(page, 'lead-class-reset-form', test.info());
    await page.getByLabel('The same password for every learner', { exact: true }).check();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect(page.getByRole('heading', { name: `New passwords for ${SECOND_CLASS}`, level: 1 })).toBeVisible();
    expect(await crumbs(page)).toEqual(['Home', 'Class database', SECOND_CLASS]);
    await checkPage(page, 'lead-class-reset-result', test.info());
    await expectPrintedCards(page, 'lead-class-reset-cards', 2);

    // Import learners: the form, a refused file, an imported one.
    await page.goto('/home');
    await page.getByRole('main').getByRole('link', { name: /^Import learners/ }).first().click();
    await checkPage(page, 'lead-roster-form', test.info());
    const file = page.getByLabel('Roster file (CSV)');
    await file.setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('first_name,last_name,class\nWanda,,Walk Class W1\n=1+1,Walker,Walk Class W1\n'),
    });
    await page.getByRole('button', { name: 'Import learners' }).click();
    await expect(page.getByRole('alert')).toContainText('not imported');
    await expect(page.locator('#form-errors')).toBeFocused();
    await checkPage(page, 'lead-roster-refused', test.info());
    const tag = Math.random().toString(36).replace(/[^a-z0-9]/g, '').slice(0, 5).padEnd(5, 'x');
    await page.getByLabel('Roster file (CSV)').setInputFiles({
      name: 'good.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'first_name,last_name,class,username\n' +
          `Wanda,Walker,Walk Class W1,wanda.walker.with.a.rather.long.username.${tag}\n` +
          'Wim,Walker,Walk Class W1,\n',
      ),
    });
    await page.getByRole('button', { name: 'Import learners' }).click();
    await expect(page.getByRole('status')).toContainText('Imported 2 learners');
    await checkPage(page, 'lead-roster-imported', test.info());
  });

  test('as the platform admin: a learner from Users, a class, its accounts and the roster form', async ({ page }) => {
    const ids = await demoIds();
    const classId = ids.classes.get(CLASS)!;
    const admin = demoAccount('demo.admin');
    try {
      await signIn(page, admin.username, admin.password);
      await fromMenu(page, 'Users');
      await page.goto('/users?q=demo.ben');
      await page.getByRole('main').getByRole('link', { name: 'Ben Brown', exact: true }).click();
      const benUrl = page.url();
      await page.getByRole('main').getByRole('link', { name: 'Reset password', exact: true }).click();
      await expect(page.getByRole('heading', { name: 'Reset password', level: 1 })).toBeVisible();
      // No student database for someone of no school: back to Ben under Users.
      expect(await crumbs(page)).toEqual(['Home', 'Users', 'Ben Brown']);
      await expect(page.locator('a[href="/school/students"]')).toHaveCount(0);
      await expectCrumbsOpen(page);
      await checkPage(page, 'admin-learner-password', test.info());
      await page.getByRole('button', { name: 'Show password', exact: true }).click();
      await expect(page.locator('#existing-password')).toHaveText(demoAccount('demo.ben').password);
      await checkPage(page, 'admin-learner-password-shown', test.info());
      await page.getByRole('button', { name: 'Generate new password', exact: true }).click();
      await page.getByRole('button', { name: 'Reset', exact: true }).click();
      await expect(page.locator('#new-password')).toBeVisible();
      await checkPage(page, 'admin-learner-password-done', test.info());
      await page.getByRole('link', { name: 'Back to Ben Brown', exact: true }).click();
      await expect(page).toHaveURL(benUrl);

      // A class by its address: no class database to go back to, but home.
      await page.goto(`/classes/${classId}`);
      expect(await crumbs(page)).toEqual(['Home']);
      await checkPage(page, 'admin-class-page', test.info());
      await page.getByRole('link', { name: 'Regenerate code', exact: true }).click();
      await checkPage(page, 'admin-confirm-regenerate', test.info());
      await page.goto(`/classes/${classId}/accounts/codes`);
      expect(await crumbs(page)).toEqual(['Home', CLASS, 'User accounts']);
      await checkPage(page, 'admin-show-access-codes', test.info());
      await expectPrintedCards(page, 'admin-class-cards');
      await page.goto(`/classes/${classId}/password-reset`);
      await checkPage(page, 'admin-class-reset-form', test.info());
      await page.goto(`/schools/${ids.school}/roster`);
      await checkPage(page, 'admin-roster-form', test.info());
    } finally {
      await setLearnerPasswordViaApi(demoAccount('demo.lead'), 'demo.ben', demoAccount('demo.ben').password);
    }
  });

  test('as a learner: Join another class', async ({ page }) => {
    const amy = demoAccount('demo.amy');
    await signIn(page, amy.username, amy.password);
    await page.goto('/classes/join');
    expect(await crumbs(page)).toEqual(['Home']);
    await checkPage(page, 'learner-join-class', test.info());
  });
});

/**
 * Presses Tab (or Shift+Tab) until the focused element's text or label
 * matches `name`, and checks that the focus can be seen. Fails after 60 presses.
 */
async function tabTo(page: Page, name: string | RegExp, backwards = false): Promise<void> {
  const wanted = (text: string): boolean => (typeof name === 'string' ? text === name : name.test(text));
  const seen: string[] = [];
  // The field a page focuses by itself counts as reached.
  for (let i = 0; i <= 60; i++) {
    if (i > 0) await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return { text: '', outline: 'none' };
      const input = el as HTMLInputElement;
      const label = input.labels?.[0]?.innerText ?? '';
      const text = (el.getAttribute('aria-label') ?? label ?? '') || el.innerText || input.value || '';
      const style = getComputedStyle(el);
      return { text: text.replace(/\s+/g, ' ').trim(), outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    seen.push(focused.text);
    if (wanted(focused.text)) {
      expect(focused.outline, `the focus on "${focused.text}" can be seen`).not.toMatch(/^none|0px$/);
      return;
    }
  }
  throw new Error(`Tab never reached ${String(name)}; it went through: ${seen.join(' | ')}`);
}

test('by keyboard alone: sign in, reset a learner, print the class’s cards, sign out', async ({ page }) => {
  test.setTimeout(120_000);
  const teacher = demoAccount('demo.teacher');
  const ben = demoAccount('demo.ben');
  try {
    await page.goto('/signin');
    await tabTo(page, 'Sign in');
    await page.keyboard.press('Enter');
    await expect(page.getByLabel('Username', { exact: true })).toBeVisible();
    await tabTo(page, 'Username');
    await page.keyboard.type(teacher.username);
    await page.keyboard.press('Enter');
    await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
    await tabTo(page, 'Password');
    await page.keyboard.type(teacher.password);
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/home$/);

    await tabTo(page, 'Class database');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
    await tabTo(page, 'Reset password for Ben Brown');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Reset password', level: 1 })).toBeVisible();
    await tabTo(page, 'Generate new password');
    await page.keyboard.press('Space');
    await expect(page.getByLabel('New password for Ben')).toBeVisible();
    const generated = await page.getByLabel('New password for Ben').inputValue();
    await tabTo(page, 'Reset');
    await page.keyboard.press('Enter');
    await expect(page.locator('#new-password')).toHaveText(generated);

    // To the class's cards: the breadcrumbs, User accounts, Show access codes.
    await tabTo(page, 'Class database', true);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
    await tabTo(page, `User accounts of ${CLASS}`);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'User accounts', level: 1 })).toBeVisible();
    await tabTo(page, 'Show access codes');
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/accounts\/codes$/);
    // The Print cards button opens the browser's print dialog; here it is
    // only recorded (a headless browser has no dialog), then printed by emulation.
    await page.evaluate(() => {
      window.print = () => document.body.setAttribute('data-printed', 'yes');
    });
    await tabTo(page, 'Print cards');
    await page.keyboard.press('Enter');
    await expect(page.locator('body')).toHaveAttribute('data-printed', 'yes');
    const cards = await expectPrintedCards(page, 'keyboard-class-cards');
    expect(cards.find((c) => c.includes('Ben Brown'))).toContain(generated);

    await tabTo(page, 'Sign out', true);
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/signin$/);
  } finally {
    await setLearnerPasswordViaApi(demoAccount('demo.lead'), ben.username, ben.password);
  }
});
