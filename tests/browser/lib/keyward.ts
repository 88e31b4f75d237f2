import * as fs from 'node:fs';
import * as path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, request, type Locator, type Page, type TestInfo } from '@playwright/test';
import { simpleParser, type AddressObject } from 'mailparser';
import * as OTPAuth from 'otpauth';

/** One line of `<data_dir>/demo-accounts.txt`, written by `keyward demo`. */
export interface DemoAccount {
  role: string;
  username: string;
  password: string;
}

/**
 * Reads the demo accounts from the file named by KEYWARD_DEMO_ACCOUNTS.
 *
 * Format: lines starting with `#` are comments; every other non-empty line is
 * `ROLE USERNAME PASSWORD`, separated by whitespace.
 */
export function demoAccounts(file = process.env.KEYWARD_DEMO_ACCOUNTS): DemoAccount[] {
  if (!file) {
    throw new Error(
      'KEYWARD_DEMO_ACCOUNTS is not set: run the suite with scripts/browser-test, ' +
        'or point it at the demo-accounts.txt that `keyward demo` wrote',
    );
  }
  const text = fs.readFileSync(file, 'utf8');
  const accounts: DemoAccount[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) {
      throw new Error(`${file}:${i + 1}: expected "ROLE USERNAME PASSWORD", got ${JSON.stringify(raw)}`);
    }
    const [role, username, password] = fields;
    accounts.push({ role, username, password });
  });
  if (accounts.length === 0) {
    throw new Error(`${file}: no demo accounts found`);
  }
  return accounts;
}

/** Where the step screenshots go: tests/browser/screenshots/ (git-ignored). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '..', 'screenshots');

/** Saves a full-page screenshot to screenshots/NAME.png and attaches it to the report. */
export async function screenshot(page: Page, name: string, testInfo?: TestInfo): Promise<string> {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const file = path.join(SCREENSHOT_DIR, `${safe}.png`);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  if (testInfo) {
    await testInfo.attach(safe, { path: file, contentType: 'image/png' });
  }
  return file;
}

const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe-core on the page as it is now and fails on any violation whose
 * impact is `serious` or `critical`, listing each one readably. Lesser
 * findings (minor, moderate) are printed but do not fail the test.
 */
export async function expectNoSeriousA11yViolations(page: Page, label?: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const where = label ? `${label} (${page.url()})` : page.url();

  const describe = (v: (typeof results.violations)[number]): string => {
    const nodes = v.nodes
      .slice(0, 10)
      .map((n) => {
        const target = n.target.map((t) => (Array.isArray(t) ? t.join(' >> ') : String(t))).join(', ');
        const summary = (n.failureSummary ?? '').replace(/\s*\n\s*/g, ' | ').trim();
        return `      - ${target}\n        ${n.html.slice(0, 200)}\n        ${summary}`;
      })
      .join('\n');
    const more = v.nodes.length > 10 ? `\n      … and ${v.nodes.length - 10} more` : '';
    return `  [${v.impact ?? 'unknown'}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}${more}`;
  };

  const serious = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ''));
  const lesser = results.violations.filter((v) => !FAILING_IMPACTS.has(v.impact ?? ''));
  if (lesser.length > 0) {
    console.log(`axe: ${lesser.length} minor/moderate finding(s) on ${where}:\n${lesser.map(describe).join('\n')}`);
  }
  const report =
    serious.length === 0
      ? ''
      : `axe found ${serious.length} serious/critical violation(s) on ${where}:\n${serious.map(describe).join('\n')}`;
  // Compare one-line summaries, so the failure shows the readable report above
  // rather than axe's raw result objects.
  expect(
    serious.map((v) => `[${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} element(s))`),
    report,
  ).toEqual([]);
}

/** The demo account with this username (see demoAccounts). */
export function demoAccount(username: string): DemoAccount {
  const account = demoAccounts().find((a) => a.username === username);
  if (!account) throw new Error(`demo-accounts.txt has no account ${username}`);
  return account;
}

// ---------------------------------------------------------------------------
// Signing in and out through the pages, and changing a password through the
// JSON API (used to put a demo account's password back after a test).

/** Signs in through the two-step pages (first screen, username, password) and lands on /home. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/home$/);
  await expect(page.getByText(`Signed in as ${username}`).first()).toBeVisible();
}

/** Signs out with the menu's Sign out and lands on the first screen. */
export async function signOut(page: Page): Promise<void> {
  await page.goto('/home');
  await (await mainMenu(page)).getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/signin$/);
}

/**
 * The main menu as this width shows it: the side bar from 900 px, and on
 * phones the "Menu" button's list, opened here if it is closed.
 */
export async function mainMenu(page: Page): Promise<Locator> {
  const summary = page.locator('details.menu > summary');
  if (await summary.isVisible()) {
    const open = await page.locator('details.menu').evaluate((d) => (d as HTMLDetailsElement).open);
    if (!open) await summary.click();
  }
  // The phone's menu or the side bar, whichever shows; found by place, not
  // by its accessible name, which is in the page's language.
  return page.locator('details.menu nav:visible, nav.sidebar:visible');
}

/** Follows one of the main menu's links (see mainMenu). */
export async function fromMenu(page: Page, label: string): Promise<void> {
  await (await mainMenu(page)).getByRole('link', { name: label, exact: true }).click();
}

/**
 * Changes a password through the JSON API: `POST /api/v1/session`, then
 * `POST /api/v1/me/password` with the session's CSRF token, then signs out.
 * Uses a fresh request context, so no browser session is touched.
 */
export async function changePasswordViaApi(username: string, current: string, next: string): Promise<void> {
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  try {
    const signIn = await api.post('/api/v1/session', { data: { username, password: current } });
    expect(signIn.status(), `API sign-in of ${username}: ${await signIn.text()}`).toBe(200);
    const { csrf_token: csrf } = (await signIn.json()) as { csrf_token: string };
    const change = await api.post('/api/v1/me/password', {
      headers: { 'X-CSRF-Token': csrf },
      data: { current_password: current, new_password: next, confirm_password: next },
    });
    expect(change.status(), `API password change of ${username}: ${await change.text()}`).toBe(200);
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
  } finally {
    await api.dispose();
  }
}

/**
 * Keeps track of one demo account's password during a test, so that it can
 * be put back to the one in demo-accounts.txt at the end: the suite shares
 * one server, and specs/signin.spec.ts signs every account in with it.
 */
export class PasswordKeeper {
  /** The password the account has now, as far as the test knows. */
  current: string;

  constructor(readonly account: DemoAccount) {
    this.current = account.password;
  }

  /** Records that the test changed the password to `password`. */
  changedTo(password: string): void {
    this.current = password;
  }

  get changed(): boolean {
    return this.current !== this.account.password;
  }

  /** Changes the password back to the original (through the API) when it differs. */
  async restore(): Promise<void> {
    if (!this.changed) return;
    await changePasswordViaApi(this.account.username, this.current, this.account.password);
    this.current = this.account.password;
  }

  /**
   * restore() for a `finally` block: when the test already failed, a failing
   * restore is reported on the console instead of hiding the first error.
   */
  async restoreAfterFailure(): Promise<void> {
    try {
      await this.restore();
    } catch (err) {
      console.error(`could not put back the password of ${this.account.username}: ${String(err)}`);
    }
  }
}

/** A new password that meets both presets (classic and nist) and differs from run to run. */
export function newPassword(tag = 'New'): string {
  const digits = String(Math.floor(Math.random() * 90) + 10);
  const letters = Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6).padEnd(6, 'q');
  return `${tag}Maple${letters}${digits}`;
}

// ---------------------------------------------------------------------------
// Files the pages hand out.

/**
 * Parses CSV as RFC 4180 writes it: quoted cells may hold commas, doubled
 * quotes ("") and line breaks. With `lineEnds` 'any' (the default) CRLF, LF
 * or a lone CR ends a record and the last record may lack a line end. With
 * 'crlf' only CRLF ends a record (a bare CR or LF stays in its cell) and the
 * text must end with CRLF, as the credentials download promises.
 */
export function parseCsv(text: string, lineEnds: 'any' | 'crlf' = 'any'): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  const endRecord = (): void => {
    record.push(cell);
    records.push(record);
    record = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRecord();
      i++;
    } else if (lineEnds === 'any' && (c === '\n' || c === '\r')) {
      endRecord();
    } else {
      cell += c;
    }
  }
  if (lineEnds === 'crlf') {
    expect(cell === '' && record.length === 0, 'the file ends with CRLF').toBe(true);
  } else if (cell !== '' || record.length > 0) {
    endRecord();
  }
  return records;
}

// ---------------------------------------------------------------------------
// Mail. scripts/browser-test runs an SMTP capture server (aiosmtpd) that
// stores every message keyward sends in the Maildir named by KEYWARD_MAILDIR.

/** One captured email, parsed. */
export interface Mail {
  /** The Maildir file name without its flags: unique per message. */
  id: string;
  /** When the capture server stored it (ms since the epoch; the file's mtime). */
  receivedAt: number;
  /** The To header as text, for example `Tom Baker <tom.baker@riverside.example>`. */
  to: string;
  /** The bare addresses of the To header, lower-cased. */
  toAddresses: string[];
  subject: string;
  text: string;
  html: string;
}

function maildir(): string {
  const dir = process.env.KEYWARD_MAILDIR;
  if (!dir) {
    throw new Error('KEYWARD_MAILDIR is not set: run the suite with scripts/browser-test');
  }
  return dir;
}

function addressesOf(header: AddressObject | AddressObject[] | undefined): { text: string; addresses: string[] } {
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const addresses: string[] = [];
  const walk = (entries: AddressObject['value']): void => {
    for (const entry of entries) {
      if (entry.address) addresses.push(entry.address.toLowerCase());
      if (entry.group) walk(entry.group);
    }
  };
  list.forEach((h) => walk(h.value));
  return { text: list.map((h) => h.text).join(', '), addresses };
}

const parsedMail = new Map<string, Mail>();

/** Every message in the Maildir (new/ and cur/), oldest first. Parsed once each. */
export async function readMaildir(): Promise<Mail[]> {
  const root = maildir();
  const mails: Mail[] = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(root, sub);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue; // the capture server creates the folders with its first message
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const id = name.split(':')[0];
      const key = path.join(root, id);
      let mail = parsedMail.get(key);
      if (!mail) {
        const file = path.join(dir, name);
        let raw: Buffer;
        let stat: fs.Stats;
        try {
          raw = fs.readFileSync(file);
          stat = fs.statSync(file);
        } catch {
          continue; // moved between new/ and cur/ while we looked
        }
        const parsed = await simpleParser(raw);
        const to = addressesOf(parsed.to);
        mail = {
          id,
          receivedAt: stat.mtimeMs,
          to: to.text,
          toAddresses: to.addresses,
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : '',
        };
        parsedMail.set(key, mail);
      }
      mails.push(mail);
    }
  }
  return mails.sort((a, b) => a.receivedAt - b.receivedAt || a.id.localeCompare(b.id));
}

/** The ids of the messages already in the Maildir; pass to `newMailTo` to ignore them. */
export async function mailIds(): Promise<Set<string>> {
  return new Set((await readMaildir()).map((m) => m.id));
}

/**
 * Polls the Maildir until a message matches `predicate`, and returns the
 * newest one that does. Fails after `timeoutMs`, listing what did arrive.
 */
export async function waitForMail(predicate: (mail: Mail) => boolean, timeoutMs = 20_000): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await readMaildir();
    const matching = all.filter(predicate);
    if (matching.length > 0) return matching[matching.length - 1];
    if (Date.now() >= deadline) {
      const seen = all.map((m) => `  ${m.id} to ${m.to}: ${m.subject}`).join('\n') || '  (none)';
      throw new Error(`no matching email within ${timeoutMs} ms; the Maildir holds:\n${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A predicate for waitForMail: a message to `address` whose subject contains
 * `subject`, that is not among `before` (from mailIds()).
 */
export function newMailTo(address: string, subject: string | RegExp, before: Set<string>): (mail: Mail) => boolean {
  const want = address.toLowerCase();
  return (mail) =>
    !before.has(mail.id) &&
    mail.toAddresses.includes(want) &&
    (typeof subject === 'string' ? mail.subject.includes(subject) : subject.test(mail.subject));
}

function urlsIn(text: string): string[] {
  return (text.match(/https?:\/\/[^\s<>"')\]]+/g) ?? []).map((u) => u.replace(/[.,;:!?]+$/, ''));
}

/** The reset link of a reset email: the first http(s) URL containing `/recovery/`. */
export function resetLinkOf(mail: Mail): string {
  const link = urlsIn(mail.text).find((u) => u.includes('/recovery/'));
  if (!link) throw new Error(`no /recovery/ link in the email "${mail.subject}":\n${mail.text}`);
  return link;
}

/** The 8-digit code of a reset email: a line of exactly 8 digits. */
export function resetCodeOf(mail: Mail): string {
  const line = mail.text.split(/\r?\n/).find((l) => /^\d{8}$/.test(l.trim()));
  if (!line) throw new Error(`no 8-digit code line in the email "${mail.subject}":\n${mail.text}`);
  return line.trim();
}

/** The "this wasn't me" link of a "password changed" email (`/security/not-me/`). */
export function notMeLinkOf(mail: Mail): string {
  const link = urlsIn(mail.text).find((u) => u.includes('/security/not-me/'));
  if (!link) throw new Error(`no /security/not-me/ link in the email "${mail.subject}":\n${mail.text}`);
  return link;
}

/**
 * Sets a learner's password as staff through the JSON API
 * (`POST /api/v1/learners/{id}/password` with mode `set`), so the password
 * stays one staff gave (it can be shown again), unlike changePasswordViaApi,
 * which makes it the learner's own private password.
 */
export async function setLearnerPasswordViaApi(staff: DemoAccount, learnerUsername: string, password: string): Promise<void> {
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  try {
    const signIn = await api.post('/api/v1/session', { data: { username: staff.username, password: staff.password } });
    expect(signIn.status(), `API sign-in of ${staff.username}: ${await signIn.text()}`).toBe(200);
    const { csrf_token: csrf } = (await signIn.json()) as { csrf_token: string };
    const found = await api.get(`/api/v1/users?q=${encodeURIComponent(learnerUsername)}`);
    expect(found.status(), `finding ${learnerUsername}: ${await found.text()}`).toBe(200);
    const learner = ((await found.json()) as { users: Array<{ id: string; username: string }> }).users.find(
      (u) => u.username === learnerUsername,
    );
    expect(learner, `no user ${learnerUsername}`).toBeTruthy();
    const set = await api.post(`/api/v1/learners/${learner!.id}/password`, {
      headers: { 'X-CSRF-Token': csrf },
      data: { mode: 'set', password },
    });
    expect(set.status(), `setting the password of ${learnerUsername}: ${await set.text()}`).toBe(200);
    await api.delete('/api/v1/session', { headers: { 'X-CSRF-Token': csrf } });
  } finally {
    await api.dispose();
  }
}

/**
 * Turns on an authenticator app for the demo account `username` through the
 * JSON API — adding or removing a single sign-on provider needs a second
 * factor on one's own account — and returns how to turn it off again (with
 * a recovery code). Sign in anything that should not meet the second step
 * first, and call the returned function in a `finally`, so the specs after
 * see the account as it was.
 */
export async function ownSecondFactorViaApi(username: string): Promise<() => Promise<void>> {
  const account = demoAccount(username);
  const api = await request.newContext({ baseURL: process.env.KEYWARD_URL ?? 'http://127.0.0.1:8080' });
  const signedIn = await api.post('/api/v1/session', { data: { username: account.username, password: account.password } });
  expect(signedIn.status(), `API sign-in of ${username}: ${await signedIn.text()}`).toBe(200);
  const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };
  const headers = { 'X-CSRF-Token': csrf };
  const started = await api.post('/api/v1/me/mfa/totp', { headers, data: { password: account.password } });
  expect(started.status(), await started.text()).toBe(200);
  const { secret } = (await started.json()) as { secret: string };
  const code = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  }).generate();
  const confirmed = await api.post('/api/v1/me/mfa/totp/confirm', { headers, data: { code } });
  expect(confirmed.status(), await confirmed.text()).toBe(200);
  const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
  return async () => {
    try {
      const off = await api.delete('/api/v1/me/mfa', { headers, data: { password: account.password, code: codes[0] } });
      expect(off.status(), `turn ${username}'s authenticator app off: ${await off.text()}`).toBe(204);
    } finally {
      await api.dispose();
    }
  };
}
