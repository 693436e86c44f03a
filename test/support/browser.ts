/**
 * A real headless Chromium (Debian's `chromium`, installed by
 * scripts/ensure-test-deps.mjs) driven through playwright-core, with a fresh
 * profile per launch. The flags keep it from calling home: the test machine
 * has no network beyond loopback, and a page test must see only its own
 * requests.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where tests write screenshots (gitignored). */
export const ARTIFACTS = join(__dirname, '..', 'artifacts');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Every URL the browser requested, in order. */
  requests: string[];
  /** Every dialog (alert, confirm, prompt) a page opened. */
  dialogs: string[];
  /**
   * Console errors (a Content-Security-Policy violation is one), uncaught
   * exceptions and missing files; not the API's refusals (401, 409, ...),
   * which the page expects and shows.
   */
  errors: string[];
  close(): Promise<void>;
}

const open = new Set<Browser>();

export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'a0pt-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, timezoneId: 'Europe/Paris', locale: 'en-GB' });
  const requests: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (?!404)\d{3}/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const browser: Browser = {
    context,
    page,
    requests,
    dialogs,
    errors,
    close: async () => {
      open.delete(browser);
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  open.add(browser);
  return browser;
}

export async function closeAllBrowsers(): Promise<void> {
  await Promise.all([...open].map((b) => b.close()));
}

export async function screenshot(page: Page, name: string, viewport: { width: number; height: number }): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.setViewportSize(viewport);
  await page.evaluate('window.scrollTo(0, 0)');
  // Let the chart redraw for the new width.
  await page.waitForTimeout(300);
  const file = join(ARTIFACTS, `${name}-${viewport.width}x${viewport.height}.png`);
  await page.screenshot({ path: file });
  // And the whole page, to see what is below the fold.
  await page.screenshot({ path: file.replace(/\.png$/, '-full.png'), fullPage: true });
  return file;
}
