import { expect, request, test, type Page } from '@playwright/test';
import {
  demoAccount,
  fromMenu,
  mailIds,
  mainMenu,
  newMailTo,
  newPassword,
  notMeLinkOf,
  ownSecondFactorViaApi,
  PasswordKeeper,
  resetLinkOf,
  signIn,
  signOut,
  waitForMail,
} from '../lib/keyward';
import { checkPage } from '../lib/walk';

// The walk of the sign-in side (issue 15): every page a person meets before
// they are signed in, at 1280 px and 390 px (checkPage: no sideways scroll,
// no serious axe finding, no control under 24 px, screenshots walk_signin-*),
// in English; the first screen and Forgot password? again in Spanish (a
// browser whose language is es-ES); and a person's own choice of language
// on Account Settings > Language, which wins over the browser's.
//
// The suite shares one demo server: passwords, second factors and the
// teacher's language are put back in `finally` blocks.

const BASE = process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080';
const MAIL_TIMEOUT = 30_000;
// The Forgot password? walk goes to demo.lead: the other specs spend demo.teacher's three reset emails an hour.
const LEAD_EMAIL = 'lena.fischer@riverside.example';

/** The `lang` of the page's <html>. */
async function langOf(page: Page): Promise<string | null> {
  return page.locator('html').getAttribute('lang');
}

/** A learner made by the lead teacher, with an unused access code. */
async function newAccessCode(): Promise<string> {
  const lead = demoAccount('demo.lead');
  const api = await request.newContext({ baseURL: BASE });
  try {
    const signedIn = await api.post('/api/v1/session', { data: { username: lead.username, password: lead.password } });
    expect(signedIn.status(), await signedIn.text()).toBe(200);
    const answer = (await signedIn.json()) as { csrf_token: string; user: { school_id: string } };
    const [csrf, school] = [answer.csrf_token, answer.user.school_id];
    const created = await api.post('/api/v1/users', {
      headers: { 'X-CSRF-Token': csrf },
      data: { first_name: 'Wren', last_name: 'Walker', role: 'learner', school_id: school, class_ids: [] },
    });
    expect(created.status(), await created.text()).toBe(201);
    return ((await created.json()) as { access_code: string }).access_code;
  } finally {
    await api.dispose();
  }
}

/** Puts demo.teacher's language back to "follow the browser" through the API. */
async function teacherFollowsTheBrowser(): Promise<void> {
  const teacher = demoAccount('demo.teacher');
  const api = await request.newContext({ baseURL: BASE });
  try {
    const signedIn = await api.post('/api/v1/session', { data: { username: teacher.username, password: teacher.password } });
    expect(signedIn.status(), await signedIn.text()).toBe(200);
    const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
    const reset = await api.put('/api/v1/me/locale', { headers: { 'X-CSRF-Token': csrf }, data: { locale: null } });
    expect(reset.status(), await reset.text()).toBe(200);
  } finally {
    await api.dispose();
  }
}

test.describe('walk: the sign-in side', () => {
  test('signing in: first screen, username, a wrong password, the second step', async ({ page }) => {
    // Not demo.parent: throttling.spec.ts leaves a stranger's delay on it.
    const person = demoAccount('demo.admin');
    await page.goto('/');
    await expect(page).toHaveURL(/\/signin$/);
    expect(await langOf(page)).toBe('en');
    await expect(page.getByRole('heading', { name: 'Welcome to keyward', level: 1 })).toBeVisible();
    for (const label of ['Sign in', 'Use a code', 'Forgot password?']) {
      await expect(page.getByRole('link', { name: label, exact: true })).toBeVisible();
    }
    await checkPage(page, 'signin-1-first-screen', test.info());

    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    const username = page.getByLabel('Username', { exact: true });
    await expect(username).toHaveAttribute('autocomplete', 'username');
    await expect(username).toBeFocused();
    await checkPage(page, 'signin-2-username', test.info());

    await username.fill(person.username);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    const password = page.getByLabel('Password', { exact: true });
    await expect(password).toHaveAttribute('autocomplete', 'current-password');
    await password.fill(`${person.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // The problem sits under the field, and the field has the focus.
    const problem = page.locator('#password-error');
    await expect(problem).toHaveAttribute('role', 'alert');
    await expect(problem).toContainText(/don['’]t match/);
    await expect(password).toHaveAttribute('aria-invalid', 'true');
    await expect(password).toHaveAttribute('aria-describedby', 'password-error');
    await expect(password).toBeFocused();
    await expect(page.getByRole('link', { name: 'Forgot password?', exact: true })).toBeVisible();
    await checkPage(page, 'signin-3-wrong-password', test.info());

    // The second step, for an account with an authenticator app.
    const turnOff = await ownSecondFactorViaApi(person.username);
    try {
      await password.fill(person.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page).toHaveURL(/\/signin\/verify$/);
      await expect(page.getByRole('heading', { name: 'Two-step verification', level: 1 })).toBeVisible();
      await expect(page.getByLabel('6-digit code', { exact: true })).toHaveAttribute('autocomplete', 'one-time-code');
      await checkPage(page, 'signin-4-second-step', test.info());
      await page.getByRole('button', { name: 'Cancel and start again', exact: true }).click();
      await expect(page).toHaveURL(/\/signin$/);
    } finally {
      await turnOff();
    }
  });

  test('Forgot password?: the request, check your email, the reset page from the email, the links that no longer work', async ({ page }) => {
    // demo.lead: the other specs spend demo.teacher's three reset emails an hour.
    const teacher = demoAccount('demo.lead');
    const keeper = new PasswordKeeper(teacher);
    try {
      // Seed 001: only an account that has signed in before gets a link.
      await signIn(page, teacher.username, teacher.password);
      await signOut(page);
      const before = await mailIds();

      await page.goto('/recovery');
      await expect(page.getByRole('heading', { name: 'Forgot password?', level: 1 })).toBeVisible();
      await expect(page.getByLabel('Username', { exact: true })).toHaveAttribute('autocomplete', 'username');
      await checkPage(page, 'recovery-1-request', test.info());
      // Nothing typed: the problem under the username, focused.
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await expect(page.locator('.field:has(#username) #form-errors')).toContainText('Enter your username.');
      await expect(page.locator('#form-errors')).toBeFocused();
      await checkPage(page, 'recovery-1-request-empty', test.info());
      await page.getByLabel('Username', { exact: true }).fill(teacher.username);
      await page.getByRole('button', { name: 'Next', exact: true }).click();

      await expect(page).toHaveURL(/\/recovery\/sent$/);
      await expect(page.getByRole('heading', { name: 'Check your email', level: 1 })).toBeVisible();
      await expect(page.getByLabel('Code from the email', { exact: true })).toHaveAttribute('autocomplete', 'one-time-code');
      await checkPage(page, 'recovery-2-sent', test.info());

      const mail = await waitForMail(newMailTo(LEAD_EMAIL, 'Reset', before), MAIL_TIMEOUT);
      await page.goto(resetLinkOf(mail));
      await expect(page.getByRole('heading', { name: 'Choose a new password', level: 1 })).toBeVisible();
      await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('autocomplete', 'new-password');
      await expect(page.getByLabel('Confirm new password', { exact: true })).toHaveAttribute('autocomplete', 'new-password');
      await checkPage(page, 'recovery-3-reset', test.info());

      // A mismatch: the problem under the new password, focused.
      const chosen = newPassword('Walk');
      await page.getByLabel('New password', { exact: true }).fill(chosen);
      await page.getByLabel('Confirm new password', { exact: true }).fill(`${chosen}x`);
      await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
      const problems = page.locator('#form-errors');
      await expect(problems).toContainText(/don['’]t match/);
      await expect(problems).toBeFocused();
      await expect(page.locator('.field:has(#new_password) + #form-errors')).toHaveCount(1);
      await checkPage(page, 'recovery-4-reset-mismatch', test.info());

      await page.getByLabel('New password', { exact: true }).fill(chosen);
      await page.getByLabel('Confirm new password', { exact: true }).fill(chosen);
      await page.getByRole('button', { name: 'Reset Password', exact: true }).click();
      keeper.changedTo(chosen);
      await expect(page).toHaveURL(/\/signin\?notice=password_reset$/);
      await expect(page.getByRole('status')).toContainText('Your password has been changed');
      await checkPage(page, 'recovery-5-changed', test.info());

      // The used link, an unknown one, and "this wasn't me" from the notice.
      await page.goto(resetLinkOf(mail));
      await expect(page.getByRole('heading', { name: 'This link has been used', level: 1 })).toBeVisible();
      await checkPage(page, 'recovery-6-link-used', test.info());
      await page.goto('/recovery/not-a-real-link');
      await expect(page.getByRole('heading', { name: "This link doesn't work", level: 1 })).toBeVisible();
      await checkPage(page, 'recovery-7-link-unknown', test.info());
      const notice = await waitForMail(newMailTo(LEAD_EMAIL, 'was changed', before), MAIL_TIMEOUT);
      await page.goto(notMeLinkOf(notice));
      await expect(page.getByRole('heading', { name: "Wasn't you?", level: 1 })).toBeVisible();
      await checkPage(page, 'recovery-8-not-me', test.info());
      await page.goto('/security/not-me/not-a-real-link');
      await expect(page.getByRole('heading', { name: 'This security link no longer works', level: 1 })).toBeVisible();
      await checkPage(page, 'recovery-9-not-me-unknown', test.info());

      await keeper.restore();
    } finally {
      await keeper.restoreAfterFailure();
    }
  });

  test('Use a code, Join a class, a single sign-on problem and an error page', async ({ page }) => {
    await page.goto('/signin');
    await page.getByRole('link', { name: 'Use a code', exact: true }).click();
    await expect(page).toHaveURL(/\/activate$/);
    const code = page.getByLabel('Access code', { exact: true });
    await expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    await checkPage(page, 'activate-1-code', test.info());

    await code.fill('NOT-A-CODE');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.locator('.field:has(#code) #form-errors')).toContainText("doesn't work");
    await expect(page.locator('#form-errors')).toBeFocused();
    await checkPage(page, 'activate-2-unknown-code', test.info());

    await code.fill(await newAccessCode());
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Hello Wren!', level: 1 })).toBeVisible();
    await expect(page.getByLabel('Username', { exact: true })).toHaveAttribute('autocomplete', 'username');
    await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('autocomplete', 'new-password');
    await checkPage(page, 'activate-3-account', test.info());
    // A username that is too short: the problem under the username.
    await page.getByLabel('Username', { exact: true }).fill('w');
    await page.getByLabel('Password', { exact: true }).fill('TigerApple42');
    await page.getByLabel('Confirm password', { exact: true }).fill('TigerApple42');
    await page.getByRole('button', { name: 'Create my account', exact: true }).click();
    await expect(page.locator('.field:has(#username) #form-errors')).toBeVisible();
    await expect(page.getByLabel('Username', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await checkPage(page, 'activate-4-username-problem', test.info());

    await page.goto('/join');
    await expect(page.getByRole('heading', { name: 'Join a class', level: 1 })).toBeVisible();
    await checkPage(page, 'join-1-form', test.info());
    await page.getByLabel('Class code', { exact: true }).fill('ZZZZZZ');
    await page.getByLabel('First name', { exact: true }).fill('Yan');
    await page.getByLabel('Last name', { exact: true }).fill('Young');
    await page.getByLabel('Username', { exact: true }).fill(`walk.${Math.random().toString(36).slice(2, 8)}`);
    await page.getByLabel('Password', { exact: true }).fill('TigerApple42');
    await page.getByLabel('Confirm password', { exact: true }).fill('TigerApple42');
    await page.getByRole('button', { name: 'Join class', exact: true }).click();
    await expect(page.locator('.field:has(#class_code) #form-errors')).toContainText("doesn't work");
    await expect(page.locator('#form-errors')).toBeFocused();
    await checkPage(page, 'join-2-unknown-code', test.info());

    await page.goto('/sso/callback?state=not-a-real-state');
    await expect(page.getByText('Nobody was signed in.')).toBeVisible();
    await checkPage(page, 'sso-problem', test.info());

    await page.goto('/no-such-page');
    await expect(page.getByRole('heading', { name: "We can't find that page", level: 1 })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Go to sign in', exact: true })).toBeVisible();
    await checkPage(page, 'error-404', test.info());
  });

  test('in Spanish: the first screen and Forgot password? follow the browser', async ({ browser }) => {
    const context = await browser.newContext({ locale: 'es-ES' });
    const page = await context.newPage();
    try {
      await page.goto('/signin');
      expect(await langOf(page)).toBe('es');
      await expect(page.getByRole('heading', { name: 'Te damos la bienvenida a keyward', level: 1 })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Iniciar sesión', exact: true })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Usar un código', exact: true })).toBeVisible();
      await expect(page.getByRole('link', { name: '¿Has olvidado tu contraseña?', exact: true })).toBeVisible();
      await checkPage(page, 'es-signin-1-first-screen', test.info());

      await page.getByRole('link', { name: '¿Has olvidado tu contraseña?', exact: true }).click();
      await expect(page).toHaveURL(/\/recovery$/);
      expect(await langOf(page)).toBe('es');
      await expect(page.getByRole('heading', { name: '¿Has olvidado tu contraseña?', level: 1 })).toBeVisible();
      await checkPage(page, 'es-recovery-1-request', test.info());
      // Nobody has this username: the answer is the same as for anyone.
      await page.getByLabel('Nombre de usuario', { exact: true }).fill('nadie.aqui');
      await page.getByRole('button', { name: 'Siguiente', exact: true }).click();
      await expect(page).toHaveURL(/\/recovery\/sent$/);
      await expect(page.getByRole('heading', { name: 'Mira tu correo', level: 1 })).toBeVisible();
      await expect(page.getByRole('status')).toContainText('El enlace funciona durante');
      await expect(page.getByLabel('Código del correo', { exact: true })).toBeVisible();
      await checkPage(page, 'es-recovery-2-sent', test.info());
    } finally {
      await context.close();
    }
  });

  test('a person chooses Español on Account Settings > Language, then English again', async ({ page }) => {
    const teacher = demoAccount('demo.teacher');
    try {
      await signIn(page, teacher.username, teacher.password);
      expect(await langOf(page)).toBe('en');
      await fromMenu(page, 'Account Settings');
      await page.getByRole('link', { name: 'Language', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/language$/);
      await expect(page.getByRole('heading', { name: 'Language', level: 1 })).toBeVisible();
      await expect(page.getByRole('radio', { name: /The language of my browser/ })).toBeChecked();
      await checkPage(page, 'language-1-browser', test.info());

      await page.getByRole('radio', { name: 'Español', exact: true }).check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/language\?saved=1$/);
      expect(await langOf(page)).toBe('es');
      await expect(page.getByRole('status')).toContainText('Guardado');
      await expect(page.getByRole('radio', { name: 'Español', exact: true })).toBeChecked();
      await expect(page.getByRole('heading', { name: 'Idioma', level: 1 })).toBeVisible();
      const menu = await mainMenu(page);
      await expect(menu.getByRole('button', { name: 'Cerrar sesión', exact: true })).toBeVisible();
      await expect(menu.getByRole('link', { name: 'Ajustes de la cuenta', exact: true })).toBeVisible();
      await expect(menu.getByRole('link', { name: 'Base de datos de la clase', exact: true })).toBeVisible();
      await checkPage(page, 'language-2-spanish', test.info());

      // The translated pages a signed-in person meets: the frame, an error
      // page, Forgot password? — all in Spanish, whatever the browser says.
      await page.goto('/no-such-page');
      expect(await langOf(page)).toBe('es');
      await expect(page.getByRole('heading', { name: 'No encontramos esa página', level: 1 })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Ir a tu página de inicio', exact: true })).toBeVisible();
      await checkPage(page, 'language-3-spanish-404', test.info());
      await page.goto('/recovery');
      await expect(page.getByRole('heading', { name: '¿Has olvidado tu contraseña?', level: 1 })).toBeVisible();

      // English again.
      await page.goto('/account/language');
      await page.getByRole('radio', { name: 'English', exact: true }).check();
      await page.getByRole('button', { name: 'Guardar', exact: true }).click();
      await expect(page).toHaveURL(/\/account\/language\?saved=1$/);
      expect(await langOf(page)).toBe('en');
      await expect(page.getByRole('status')).toContainText('Saved');
      await expect(page.getByRole('radio', { name: 'English', exact: true })).toBeChecked();
      await signOut(page);
    } finally {
      await teacherFollowsTheBrowser();
    }
  });
});
