import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { describeIf } from './prerequisites.js';

/**
 * Debian's Chromium, driven by playwright-core (which cannot download browsers here). Without the
 * background-networking flags Chromium keeps calling Google services the closed network refuses.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * describe() that needs Chromium (.ci/run installs it: `apt-get install -y chromium`). Files made
 * of nothing else are left out by jest.config.js where it is missing; this covers the rest.
 */
export function describeWithChromium(name: string, body: () => void): void {
  describeIf(existsSync(CHROMIUM), name, `Chromium at ${CHROMIUM}: apt-get install -y chromium`, body);
}

/** Where screenshots go for review (git-ignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', 'test-output', 'console');

/** Generous, bounded waits for a busy 2-core machine. */
export const BROWSER_TIMEOUT_MS = 30_000;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh Chromium with a user-data directory of its own, removed again by close(). */
export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
  // Playwright takes the profile directory here, and passes --user-data-dir itself.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 860 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Retries `check` until it passes or `timeoutMs` runs out (then throws its last error). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = BROWSER_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }
}

/** Fills the console's sign-in form (the contract's accessible names) and submits it. */
export async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Clicks `button`, then Confirm in the dialog that asks. */
export async function confirmClick(page: Page, button: Locator): Promise<void> {
  await button.click();
  await page.getByRole('dialog').waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
}
