/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by `playwright-core`
 * (never a downloaded browser). When the binary is missing the suite is skipped with a loud message,
 * except under `CI=true` or `WEFT_REQUIRE_SERVICES=1`, where it fails — as for the backing services.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { servicesRequired } from './services.js';

/** Where Debian installs Chromium (`apt-get install chromium`); `WEFT_CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env['WEFT_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps dialling
 * Google's hosts, which this machine refuses.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Resolves true when the suite can run; throws under CI when Chromium is missing. */
export function requireChromium(suite: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium is not installed at ${CHROMIUM_PATH}; browser suite "${suite}" cannot run`;
  if (servicesRequired()) throw new Error(`${message} (required because CI=true or WEFT_REQUIRE_SERVICES=1)`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: ${message}.\n!! Install it with: apt-get install -y chromium\n${'!'.repeat(100)}\n`);
  return false;
}

/** A launched browser (playwright gives it a fresh, throw-away profile) with one context. */
export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with one context (1440×900, light unless asked otherwise). */
export async function launchBrowser(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  return {
    browser,
    context,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
