import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { demoAccount, expectNoSeriousA11yViolations, fromMenu, mainMenu, newPassword, screenshot, signIn } from '../lib/keyward';

// Schools, classes and codes (SPEC.md §1, §6 R-CODE-1..3, §7 R-TCH-1/2; seed
// 002 "How to reset a learner's password"), against the page contract:
//   navigation menu (summary "Menu"), per role:
//     lead teacher  "Class database" (/classes), "Subscription management" (/school), "Users" (/users)
//     teacher       "Class database";  parent "Your children" (/children)
//   /school           "Subscription management": links "Student database", "Class database", "Add a person"
//   /school/students  "Student database": table Learner | Username | Classes | Status (lead teacher only)
//   /classes          "Class database": one region per class (h2 = class name, a link to /classes/{id}),
//                     "Class code: <span.class-code>", table Learner | Username | Status
//   /users/new        "Add a person": First name, Last name, Role, School, class checkboxes, Email, button "Add"
//                     -> /users/{id}?added=1: role=status "Added…", <details> "Show access codes" open,
//                        "Access code … <code>", "Parent access code: <code>"
//   /activate         "Use a code": input "Access code", button "Next"
//                     -> "Hello NAME!" (access code) or "Make your parent account" (parent access code):
//                        Username, [Email address], Password, Confirm password, button "Create my account"
//                     -> /signin?notice=activated "Your account is ready"
//   /children         "Your children": the linked children, "Link another child": "Parent access code", "Link child"
//   /join             "Join a class": Class code, First name, Last name, Username, Password, Confirm password,
//                     button "Join class" -> /signin?notice=joined
//   /classes/{id}     the class code big (.board-code), links "Regenerate code", "Switch off" to
//                     confirm pages whose button of the same name does it
//
// The suite shares one demo server: nothing here changes a demo account's
// password. New people (Lily Newton, her parent, learners who join) are made
// with random usernames. Test 6 regenerates Class 4B's class code and
// leaves it switched on (join.spec.ts does the same; each reads the code it
// uses from the page). scripts/browser-test starts a fresh server each run; on a
// server where this spec already ran, the Users page carries the nameless
// parent of the known bug below and its axe check fails.

const CLASS = 'Class 4B';

/** The learners `keyward demo` puts in Class 4B (keyward_core::demo::DEMO_PEOPLE). */
const SEEDED_LEARNERS = [
  { name: 'Amy Adams', username: 'demo.amy' },
  { name: 'Ben Brown', username: 'demo.ben' },
  { name: 'Cara Clark', username: 'demo.cara' },
];

/** Five random lower-case letters and digits, to keep new usernames unique. */
function suffix(): string {
  return Math.random().toString(36).replace(/[^a-z0-9]/g, '').slice(0, 5).padEnd(5, 'x');
}

/** A learner password under the learner rules (seed 000: 6+ characters, a capital, a small letter, a digit). */
function learnerPassword(): string {
  return `TigerApple${Math.floor(Math.random() * 90) + 10}`;
}

/** Axe (serious and critical fail) and a full-page screenshot of the page as it is now. */
async function checkPage(page: Page, label: string, shot: string): Promise<void> {
  await expectNoSeriousA11yViolations(page, label);
  await screenshot(page, `schools-${shot}`, test.info());
}

/** The menu's link labels, as the side bar (or the opened Menu) shows them. */
async function menuLinks(page: Page): Promise<string[]> {
  const links = await (await mainMenu(page)).getByRole('link').allTextContents();
  return links.map((l) => l.trim());
}

/** A table row of `scope` whose text contains `text`. */
function row(scope: Page | Locator, text: string): Locator {
  return scope.getByRole('row').filter({ hasText: text });
}

/** Opens the class database from the menu and returns the region of Class 4B. */
async function openClassDatabase(page: Page): Promise<Locator> {
  await fromMenu(page, 'Class database');
  await expect(page).toHaveURL(/\/classes$/);
  await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
  const block = page.getByRole('region', { name: CLASS, exact: true });
  await expect(block.getByRole('heading', { name: CLASS, level: 2 })).toBeVisible();
  return block;
}

/** The class code shown in a class's region of the class database. */
async function classCodeIn(block: Locator): Promise<string> {
  const code = block.locator('.class-code');
  await expect(code).toHaveText(/^[A-Z2-9]{6}$/);
  return (await code.innerText()).trim();
}

async function withContext<T>(browser: Browser, run: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await run(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

/** From the first screen, "Use a code", the code, "Next". */
async function enterCode(page: Page, code: string): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Welcome to keyward' })).toBeVisible();
  await page.getByRole('link', { name: 'Use a code', exact: true }).click();
  await expect(page).toHaveURL(/\/activate$/);
  await expect(page.getByRole('heading', { name: 'Use a code', level: 1 })).toBeVisible();
  const field = page.getByLabel('Access code', { exact: true });
  await expect(field).toHaveAttribute('autocomplete', 'one-time-code');
  await field.fill(code);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
}

/** Fills the "choose your account" step of Use a code and submits it. */
async function chooseAccount(
  page: Page,
  opts: { username: string; password: string; email?: string },
): Promise<void> {
  const username = page.getByLabel('Username', { exact: true });
  await expect(username).toHaveAttribute('autocomplete', 'username');
  await username.fill(opts.username);
  if (opts.email !== undefined) await page.getByLabel('Email address', { exact: true }).fill(opts.email);
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('autocomplete', 'new-password');
  await password.fill(opts.password);
  await page.getByLabel('Confirm password', { exact: true }).fill(opts.password);
}

/** The sign-in page after Use a code or /join, with its notice. */
async function expectReadyToSignIn(page: Page, notice: RegExp, query: string): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`/signin\\?notice=${query}$`));
  await expect(page.getByRole('heading', { name: 'Welcome to keyward' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText(notice);
}

/** The error page of a denied address: status 403, the error page, no 500. */
async function expectForbidden(page: Page, path: string, shot: string): Promise<void> {
  const response = await page.goto(path);
  expect(response, `a response for ${path}`).not.toBeNull();
  expect(response!.status(), `GET ${path}`).toBe(403);
  await expect(page.getByRole('heading', { level: 1, name: 'This page is not open to you' })).toBeVisible();
  await expect(page.getByRole('main').getByRole('alert')).toBeVisible();
  // The next step, and the code for support in small print.
  await expect(page.getByRole('main').getByRole('link', { name: 'Go to your home page' })).toBeVisible();
  await expect(page.getByRole('main')).toContainText('error 403');
  await checkPage(page, `403 page for ${path}`, shot);
}

/** Lily Newton, made by the lead teacher in "Add a person" and used by the tests after it. */
const lily = {
  first: 'Lily',
  last: 'Newton',
  id: '',
  accessCode: '',
  parentCode: '',
  username: `lily.n${suffix()}`,
  password: learnerPassword(),
};

/** The parent account made with Lily's parent access code. */
const newParent = { username: `parent.n${suffix()}`, password: newPassword('Parent') };

test.describe('schools, classes and codes', () => {
  test('seed 002: the lead teacher finds the student database and the class database', async ({ page }) => {
    const lead = demoAccount('demo.lead');
    await signIn(page, lead.username, lead.password);
    await checkPage(page, 'lead teacher home', 'lead-1-home');
    expect(await menuLinks(page)).toEqual(
      expect.arrayContaining(['Class database', 'Subscription management', 'Users', 'Account Settings']),
    );

    // Menu -> Subscription management.
    await fromMenu(page, 'Subscription management');
    await expect(page).toHaveURL(/\/school$/);
    await expect(page.getByRole('heading', { name: 'Subscription management', level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('Riverside Primary School');
    await checkPage(page, 'Subscription management', 'lead-2-subscription-management');

    // -> Student database: every learner of the school, with the class.
    await page.getByRole('main').getByRole('link', { name: 'Student database', exact: true }).click();
    await expect(page).toHaveURL(/\/school\/students$/);
    await expect(page.getByRole('heading', { name: 'Student database', level: 1 })).toBeVisible();
    const table = page.getByRole('table');
    for (const header of ['Learner', 'Username', 'Classes', 'Status']) {
      await expect(table.getByRole('columnheader', { name: header, exact: true })).toBeVisible();
    }
    for (const learner of SEEDED_LEARNERS) {
      const r = row(table, learner.name);
      await expect(r).toHaveCount(1);
      await expect(r.getByRole('cell').nth(1)).toHaveText(learner.username);
      await expect(r.getByRole('cell').nth(2)).toHaveText(CLASS);
      await expect(r.getByRole('cell').nth(3)).toHaveText('Active');
      await expect(r.getByRole('link', { name: learner.name, exact: true })).toHaveAttribute('href', /^\/users\/.+/);
    }
    await checkPage(page, 'Student database', 'lead-3-student-database');

    // Back to Subscription management -> Class database: Class 4B, its code and learners.
    await page.getByRole('main').getByRole('link', { name: 'Subscription management', exact: true }).click();
    await expect(page).toHaveURL(/\/school$/);
    await page.getByRole('main').getByRole('link', { name: 'Class database', exact: true }).click();
    await expect(page).toHaveURL(/\/classes$/);
    await expect(page.getByRole('heading', { name: 'Class database', level: 1 })).toBeVisible();
    const block = page.getByRole('region', { name: CLASS, exact: true });
    await expect(block.getByRole('link', { name: CLASS, exact: true })).toHaveAttribute('href', /^\/classes\/.+/);
    await expect(block).toContainText(/Class code:\s*[A-Z2-9]{6}/);
    await classCodeIn(block);
    for (const learner of SEEDED_LEARNERS) {
      const r = row(block, learner.name);
      await expect(r).toHaveCount(1);
      await expect(r).toContainText(learner.username);
    }
    await checkPage(page, 'Class database (lead teacher)', 'lead-4-class-database');
  });

  test.describe('a new learner and her parent', () => {
    test.describe.configure({ mode: 'serial' });

    test('Add a person: the lead teacher adds Lily Newton to Class 4B and sees her codes', async ({ page }) => {
      const lead = demoAccount('demo.lead');
      await signIn(page, lead.username, lead.password);
      await fromMenu(page, 'Users');
      await expect(page).toHaveURL(/\/users$/);
      await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
      await checkPage(page, 'Users', 'add-1-users');

      await page.getByRole('link', { name: 'Add a person', exact: true }).click();
      await expect(page).toHaveURL(/\/users\/new$/);
      await expect(page.getByRole('heading', { name: 'Add a person', level: 1 })).toBeVisible();
      await checkPage(page, 'Add a person', 'add-2-form');

      await page.getByLabel('First name', { exact: true }).fill(lily.first);
      await page.getByLabel('Last name', { exact: true }).fill(lily.last);
      await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Learner' });
      await expect(page.getByLabel('School', { exact: true })).toContainText('Riverside Primary School');
      await page.getByRole('checkbox', { name: CLASS, exact: true }).check();
      await screenshot(page, 'schools-add-3-filled', test.info());
      await page.getByRole('button', { name: 'Add', exact: true }).click();

      // Her page: "Added", Show access codes open with both codes.
      await expect(page).toHaveURL(/\/users\/[^/?]+\?added=1$/);
      lily.id = new URL(page.url()).pathname.split('/').pop() ?? '';
      await expect(page.getByRole('heading', { name: `${lily.first} ${lily.last}`, level: 1 })).toBeVisible();
      await expect(page.getByRole('status')).toContainText('Added');
      const facts = page.locator('dl.facts');
      await expect(facts).toContainText('not chosen yet');
      await expect(facts).toContainText('Learner');
      await expect(facts).toContainText('Waiting for the access code');
      const codes = page.locator('details.codes');
      await expect(codes.locator('summary')).toHaveText('Show access codes');
      await expect(codes).toHaveAttribute('open', '');
      const access = codes.locator('p', { hasText: /^Access code/ }).locator('code');
      const parent = codes.locator('p', { hasText: 'Parent access code' }).locator('code');
      await expect(access).toBeVisible();
      await expect(parent).toBeVisible();
      lily.accessCode = (await access.innerText()).trim();
      lily.parentCode = (await parent.innerText()).trim();
      expect(lily.accessCode).toMatch(/^\S{8,}$/);
      expect(lily.parentCode).toMatch(/^\S{8,}$/);
      expect(lily.parentCode).not.toBe(lily.accessCode);
      await checkPage(page, 'new learner page with codes', 'add-4-added-with-codes');

      // Shown again later (Show access codes, closed this time).
      await page.goto(`/users/${lily.id}`);
      await expect(page.getByRole('status')).toHaveCount(0);
      await expect(codes).not.toHaveAttribute('open', '');
      await codes.locator('summary').click();
      await expect(access).toHaveText(lily.accessCode);
      await expect(parent).toHaveText(lily.parentCode);
      await checkPage(page, 'learner page, codes shown again', 'add-5-codes-again');

      // She is in the student database, waiting for her code.
      await page.goto('/school/students');
      const r = row(page.getByRole('table'), `${lily.first} ${lily.last}`);
      await expect(r.first()).toContainText(CLASS);
      await expect(r.first()).toContainText('Waiting for the access code');
    });

    test('Use a code: Lily sets up her account and signs in; the code then counts as used', async ({ browser }) => {
      expect(lily.accessCode, 'the access code from the previous test').not.toBe('');
      await withContext(browser, async (page) => {
        await page.goto('/');
        await checkPage(page, 'first screen', 'lily-1-first-screen');
        await enterCode(page, lily.accessCode);
        await expect(page.getByRole('heading', { name: `Hello ${lily.first}!`, level: 1 })).toBeVisible();
        await expect(page.getByLabel('Email address', { exact: true })).toHaveCount(0);
        await checkPage(page, 'Use a code: choose username and password', 'lily-2-hello');

        await chooseAccount(page, { username: lily.username, password: lily.password });
        await screenshot(page, 'schools-lily-3-filled', test.info());
        await page.getByRole('button', { name: 'Create my account', exact: true }).click();
        await expectReadyToSignIn(page, /Your account is ready/, 'activated');
        await checkPage(page, 'sign-in page after Use a code', 'lily-4-account-ready');

        // The same code again: it has been used.
        await enterCode(page, lily.accessCode);
        const alert = page.getByRole('alert');
        await expect(alert).toContainText(/already been used/);
        await expect(page.getByLabel('Access code', { exact: true })).toHaveAttribute('aria-invalid', 'true');
        await expect(page.getByRole('heading', { name: 'Use a code', level: 1 })).toBeVisible();
        await checkPage(page, 'Use a code with a used code', 'lily-5-code-used');

        // She signs in with what she chose.
        await signIn(page, lily.username, lily.password);
        await expect(page.getByRole('heading', { name: `Hello, ${lily.first} ${lily.last}`, level: 1 })).toBeVisible();
        await checkPage(page, 'learner home', 'lily-6-home');
      });
    });

    test('parent access code: a new parent account, then demo.parent links Lily beside Amy', async ({ browser }) => {
      expect(lily.parentCode, 'the parent access code from the first test').not.toBe('');
      const { username: parentUsername, password: parentPassword } = newParent;

      // A new parent makes an account with Lily's parent access code.
      await withContext(browser, async (page) => {
        await enterCode(page, lily.parentCode);
        await expect(page.getByRole('heading', { name: 'Make your parent account', level: 1 })).toBeVisible();
        await expect(page.getByRole('main')).toContainText(`links your account to ${lily.first}`);
        await checkPage(page, 'Use a code: parent account', 'parent-1-make-account');

        // A parent names themselves; the school then knows who they are.
        await page.getByLabel('Your first name', { exact: true }).fill('Penny');
        await page.getByLabel('Your last name', { exact: true }).fill('Newton');
        await chooseAccount(page, {
          username: parentUsername,
          email: `${parentUsername}@family.example`,
          password: parentPassword,
        });
        await screenshot(page, 'schools-parent-2-filled', test.info());
        await page.getByRole('button', { name: 'Create my account', exact: true }).click();
        await expectReadyToSignIn(page, /Your account is ready/, 'activated');

        await signIn(page, parentUsername, parentPassword);
        await checkPage(page, 'new parent home', 'parent-3-home');
        await fromMenu(page, 'Your children');
        await expect(page).toHaveURL(/\/children$/);
        await expect(page.getByRole('heading', { name: 'Your children', level: 1 })).toBeVisible();
        const children = page.getByRole('main').getByRole('listitem');
        await expect(children).toHaveCount(1);
        await expect(children.first()).toContainText(`${lily.first} ${lily.last}`);
        await expect(children.first()).toContainText(lily.username);
        await checkPage(page, 'Your children (new parent)', 'parent-4-children');
      });

      // demo.parent (Amy's parent) links Lily with the same code.
      await withContext(browser, async (page) => {
        const parent = demoAccount('demo.parent');
        await signIn(page, parent.username, parent.password);
        await fromMenu(page, 'Your children');
        await expect(page).toHaveURL(/\/children$/);
        const main = page.getByRole('main');
        const amy = main.getByRole('listitem').filter({ hasText: 'Amy Adams' });
        const lilyItem = main.getByRole('listitem').filter({ hasText: lily.username });
        await expect(amy).toContainText('demo.amy');
        await expect(lilyItem).toHaveCount(0);
        await expect(main.getByRole('heading', { name: 'Link another child', level: 2 })).toBeVisible();
        await checkPage(page, 'Your children (demo.parent)', 'parent-5-demo-parent-children');

        // A wrong code: an alert, nothing linked.
        const field = page.getByLabel('Parent access code', { exact: true });
        await field.fill('WRONG-CODE-99');
        await page.getByRole('button', { name: 'Link child', exact: true }).click();
        await expect(page.locator('#parent_access_code-error')).toContainText(/doesn['’]t work/);
        await expect(page.getByLabel('Parent access code', { exact: true })).toHaveAttribute('aria-invalid', 'true');
        await expect(lilyItem).toHaveCount(0);
        await checkPage(page, 'Link another child with a wrong code', 'parent-6-wrong-code');

        // The right code: Lily appears beside Amy.
        await page.getByLabel('Parent access code', { exact: true }).fill(lily.parentCode);
        await page.getByRole('button', { name: 'Link child', exact: true }).click();
        await expect(page.getByRole('status')).toContainText('Your child is now linked');
        await expect(page.locator('.field-error')).toHaveCount(0);
        await expect(amy).toContainText('demo.amy');
        await expect(lilyItem).toHaveCount(1);
        await expect(lilyItem).toContainText(`${lily.first} ${lily.last}`);
        await checkPage(page, 'Your children after linking', 'parent-7-linked');

        // Still there on the next visit.
        await page.goto('/children');
        await expect(lilyItem).toHaveCount(1);
        await expect(amy).toHaveCount(1);
      });
    });

    test('the Users list names the parent who came in with a parent access code', async ({ page }) => {
      // A parent names themselves at Use a code, so their row is never an
      // empty link (axe link-name).
      const lead = demoAccount('demo.lead');
      await signIn(page, lead.username, lead.password);
      await page.goto('/users');
      const r = row(page.getByRole('table'), newParent.username);
      await expect(r).toHaveCount(1);
      await expect(r).toContainText('Parent');
      await expect(r).toContainText('Penny Newton');
      await screenshot(page, 'schools-parent-8-users-list', test.info());
      await expect(r.getByRole('link')).toHaveAccessibleName(/\S/, { timeout: 2_000 });
      await expectNoSeriousA11yViolations(page, 'Users with a new parent');
    });
  });

  test('the teacher sees Class 4B in the class database and is refused the lead teacher pages', async ({ page }) => {
    const teacher = demoAccount('demo.teacher');
    await signIn(page, teacher.username, teacher.password);
    await checkPage(page, 'teacher home', 'teacher-1-home');
    const links = await menuLinks(page);
    expect(links).toContain('Class database');
    expect(links).not.toContain('Subscription management');
    expect(links).not.toContain('Users');

    const block = await openClassDatabase(page);
    await classCodeIn(block);
    for (const learner of SEEDED_LEARNERS) {
      await expect(row(block, learner.name)).toContainText(learner.username);
      await expect(row(block, learner.name)).toContainText('Active');
    }
    if (lily.username && lily.accessCode) {
      // Lily, added and activated above, is in the class with the username she chose.
      await expect(row(block, lily.username)).toContainText(`${lily.first} ${lily.last}`);
    }
    await checkPage(page, 'Class database (teacher)', 'teacher-2-class-database');

    // Seed 002: "find the learner within the list": her page opens.
    await row(block, 'Amy Adams').getByRole('link', { name: 'Amy Adams', exact: true }).click();
    await expect(page).toHaveURL(/\/users\/[^/]+$/);
    await expect(page.getByRole('heading', { name: 'Amy Adams', level: 1 })).toBeVisible();
    await expect(page.locator('dl.facts')).toContainText('demo.amy');
    await checkPage(page, 'learner page (teacher)', 'teacher-2b-learner-page');

    await expectForbidden(page, '/school/students', 'teacher-3-student-database-403');
    await expectForbidden(page, '/users', 'teacher-4-users-403');
  });

  test('/join: a new learner joins Class 4B with its class code; Regenerate code stops the old one', async ({
    browser,
  }) => {
    const teacher = demoAccount('demo.teacher');
    await withContext(browser, async (teacherPage) => {
      await signIn(teacherPage, teacher.username, teacher.password);
      const code = await classCodeIn(await openClassDatabase(teacherPage));

      // A newcomer joins with the code from the class database, then signs in.
      const joiner = { first: 'Jamie', last: 'Joiner', username: `jamie.j${suffix()}`, password: learnerPassword() };
      await withContext(browser, async (page) => {
        await page.goto('/');
        await page.getByRole('link', { name: 'Use a code', exact: true }).click();
        await page.getByRole('link', { name: /Join a class/ }).click();
        await expect(page).toHaveURL(/\/join$/);
        await expect(page.getByRole('heading', { name: 'Join a class', level: 1 })).toBeVisible();
        await checkPage(page, 'Join a class', 'join-1-form');

        await page.getByLabel('Class code', { exact: true }).fill(code);
        await page.getByLabel('First name', { exact: true }).fill(joiner.first);
        await page.getByLabel('Last name', { exact: true }).fill(joiner.last);
        await chooseAccount(page, { username: joiner.username, password: joiner.password });
        await screenshot(page, 'schools-join-2-filled', test.info());
        await page.getByRole('button', { name: 'Join class', exact: true }).click();
        await expectReadyToSignIn(page, /You are in the class/, 'joined');
        await checkPage(page, 'sign-in page after joining', 'join-3-joined');

        await signIn(page, joiner.username, joiner.password);
        await expect(page.getByRole('heading', { name: `Hello, ${joiner.first} ${joiner.last}`, level: 1 })).toBeVisible();
        await checkPage(page, 'home of the learner who joined', 'join-4-home');
      });

      // The teacher sees the newcomer in Class 4B.
      const block = await openClassDatabase(teacherPage);
      await expect(row(block, joiner.username)).toContainText(`${joiner.first} ${joiner.last}`);

      // The class page: the code big, Regenerate code.
      await block.getByRole('link', { name: CLASS, exact: true }).click();
      await expect(teacherPage).toHaveURL(/\/classes\/[^/]+$/);
      const classUrl = teacherPage.url();
      await expect(teacherPage.getByRole('heading', { name: CLASS, level: 1 })).toBeVisible();
      const board = teacherPage.locator('.board-code');
      await expect(board.locator('[aria-hidden="true"]')).toHaveText(code);
      await expect(board.locator('.visually-hidden')).toHaveText(code.split('').join(' '));
      const fontPx = await board.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
      expect(fontPx, 'the class code is big enough for a board').toBeGreaterThanOrEqual(32);
      await expect(teacherPage.getByRole('main')).toContainText('/join');
      await checkPage(teacherPage, 'class page', 'join-5-class-page');

      await teacherPage.getByRole('link', { name: 'Regenerate code', exact: true }).click();
      await expect(teacherPage.getByRole('heading', { name: `Give ${CLASS} a new class code?`, level: 1 })).toBeVisible();
      await teacherPage.getByRole('button', { name: 'Regenerate code', exact: true }).click();
      await expect(teacherPage).toHaveURL(/\/classes\/[^/]+\?notice=regenerated$/);
      expect(teacherPage.url().split('?')[0]).toBe(classUrl);
      await expect(teacherPage.getByRole('status')).toContainText('The old code no longer works');
      await expect(board.locator('[aria-hidden="true"]')).toHaveText(/^[A-Z2-9]{6}$/);
      const fresh = (await board.locator('[aria-hidden="true"]').innerText()).trim();
      expect(fresh).not.toBe(code);
      await checkPage(teacherPage, 'class page after Regenerate code', 'join-6-regenerated');
      expect(await classCodeIn(await openClassDatabase(teacherPage))).toBe(fresh);

      // The old code no longer works on /join; the new one does (small letters too).
      await withContext(browser, async (page) => {
        const late = { first: 'Kim', last: 'Late', username: `kim.l${suffix()}`, password: learnerPassword() };
        await page.goto('/join');
        await page.getByLabel('Class code', { exact: true }).fill(code);
        await page.getByLabel('First name', { exact: true }).fill(late.first);
        await page.getByLabel('Last name', { exact: true }).fill(late.last);
        await chooseAccount(page, late);
        await page.getByRole('button', { name: 'Join class', exact: true }).click();
        await expect(page).toHaveURL(/\/join$/);
        await expect(page.getByRole('alert')).toContainText("That class code doesn't work");
        await expect(page.getByLabel('Class code', { exact: true })).toHaveAttribute('aria-invalid', 'true');
        await checkPage(page, 'Join a class with the old code', 'join-7-old-code');

        await page.getByLabel('Class code', { exact: true }).fill(fresh.toLowerCase());
        await page.getByLabel('Password', { exact: true }).fill(late.password);
        await page.getByLabel('Confirm password', { exact: true }).fill(late.password);
        await page.getByRole('button', { name: 'Join class', exact: true }).click();
        await expectReadyToSignIn(page, /You are in the class/, 'joined');
        await signIn(page, late.username, late.password);
      });
    });
  });
});
