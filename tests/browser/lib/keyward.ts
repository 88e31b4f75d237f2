import * as fs from 'node:fs';
import * as path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';

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
