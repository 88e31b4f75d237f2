/**
 * The page walk (issue 15): every page as each role, at a wide screen and a
 * phone. `checkPage` looks at the page as it is now at both widths and fails
 * on sideways scrolling, on serious or critical axe-core findings and on
 * controls smaller than 24 × 24 px (WCAG 2.2 2.5.8, with its exception for a
 * link inside a sentence), and saves a screenshot of each width to
 * tests/browser/screenshots/walk_NAME-wide.png and …-phone.png (git-ignored) to compare by eye.
 *
 * It only resizes the window, never reloads, so it can look at the answer
 * to a form (a whole-class reset's result) as well as at a plain page.
 */
import { expect, type Page, type TestInfo } from '@playwright/test';
import { expectNoSeriousA11yViolations, screenshot } from './keyward';

export const WIDTHS = [
  { name: 'wide', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Fails if the page is wider than the window (it would scroll sideways). */
export async function expectNoSidewaysScroll(page: Page, label: string): Promise<void> {
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    const innerWidth = window.innerWidth;
    // The element that sticks out furthest, to say what to fix.
    let widest = '';
    let right = innerWidth;
    document.querySelectorAll('body *').forEach((el) => {
      const r = el.getBoundingClientRect();
      if (r.right > right + 0.5) {
        right = r.right;
        widest = `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> ends at ${Math.round(r.right)} px`;
      }
    });
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, widest };
  });
  expect(scrollWidth, `${label}: the page is ${scrollWidth} px wide in a ${innerWidth} px window (${widest})`).toBeLessThanOrEqual(innerWidth);
}

/** Fails on a visible control smaller than 24 × 24 px. */
export async function expectTargetsAtLeast24px(page: Page, label: string): Promise<void> {
  const small = await page.evaluate(() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
    const found: string[] = [];
    document.querySelectorAll(selector).forEach((node) => {
      const el = node as HTMLElement;
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') return;
      if (el.classList.contains('skip-link')) return; // off-screen until focused
      // WCAG's inline exception: a link inside a sentence keeps the line's height.
      const inSentence =
        el.tagName === 'A' &&
        style.display === 'inline' &&
        (el.parentElement?.textContent ?? '').trim().length > (el.textContent ?? '').trim().length;
      const tooShort = r.height < 23.5;
      const tooNarrow = !inSentence && r.width < 23.5;
      if (tooShort || tooNarrow) {
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? el.getAttribute('name') ?? '').trim().slice(0, 40);
        found.push(`<${el.tagName.toLowerCase()}> "${name}" is ${Math.round(r.width)} × ${Math.round(r.height)} px`);
      }
    });
    return found;
  });
  expect(small, `${label}: controls under 24 × 24 px`).toEqual([]);
}

/**
 * Looks at the page as it is now at both widths (see the module's comment)
 * and leaves the window wide again.
 */
export async function checkPage(page: Page, name: string, testInfo?: TestInfo): Promise<void> {
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
    const label = `${name} at ${size.width} px`;
    await expectNoSidewaysScroll(page, label);
    await expectNoSeriousA11yViolations(page, label);
    await expectTargetsAtLeast24px(page, label);
    await screenshot(page, `walk/${name}-${size.name}`, testInfo);
  }
  await page.setViewportSize({ width: WIDTHS[0].width, height: WIDTHS[0].height });
}
