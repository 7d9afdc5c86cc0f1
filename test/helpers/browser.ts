/** Headless Chromium for the HTML report tests: Debian's chromium, driven by playwright-core. */
import type { Browser, Page } from 'playwright-core';

/** The browser binary (Debian's chromium, or CHROMIUM_PATH). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Opens a report file, collecting console errors, page errors, dialogs (alert() would be one)
 * and every request that leaves the file (a report must fetch nothing).
 */
export async function openReport(browser: Browser, file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => void (problems.push(`dialog: ${d.message()}`), d.dismiss()));
  page.on('request', (r) => void (r.url().startsWith('file:') || r.url().startsWith('data:') || problems.push(`network request: ${r.url()}`)));
  await page.goto(`file://${file}`);
  return { page, problems };
}
