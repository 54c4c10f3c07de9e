/**
 * Browser test harness: the real API on 127.0.0.1 (embedded PGlite + memory store), the console built from
 * web/, and Debian's chromium driven by playwright-core. Every page records console errors and CSP
 * violations (both the `securitypolicyviolation` DOM event and Chrome's console report), and `axe` checks a
 * screen for serious or critical accessibility violations.
 */
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { AxeBuilder } from '@axe-core/playwright';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ensureWebBuild } from '../../scripts/ensure-web.js';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { PASSWORD } from '../helpers/factories.js';
import { safeTotpMoment, totpCode } from '../helpers/totp.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export interface Server {
  app: FastifyInstance;
  origin: string;
  close: () => Promise<void>;
}

/** A free TCP port on the loopback (the WebAuthn origin must be known before the app is built). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The API on http://localhost:<port>: `localhost` (not 127.0.0.1) because WebAuthn needs a domain as relying
 * party id, and it is a secure context for the browser.
 */
export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  await ensureWebBuild();
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const app = await buildApp(
    testConfig({
      ADMIN_DEFAULT_TENANT: 'acme',
      PUBLIC_URL: origin,
      WEBAUTHN_RP_ID: 'localhost',
      WEBAUTHN_ORIGIN: origin,
      ...env,
    }),
    { migrate: true },
  );
  await app.listen({ host: '127.0.0.1', port });
  return { app, origin, close: () => app.close() };
}

export interface Problems {
  consoleErrors: string[];
  cspViolations: string[];
}

export interface Browsing {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  problems: Problems;
  close: () => Promise<void>;
}

export async function launch(
  viewport = { width: 1280, height: 800 },
  opts: { colorScheme?: 'light' | 'dark'; ignoreHTTPSErrors?: boolean } = {},
): Promise<Browsing> {
  // Playwright gives each launch a fresh temporary profile (its default), removed on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // localhost is served on 127.0.0.1 only: do not try ::1 first.
      '--host-resolver-rules=MAP localhost 127.0.0.1',
    ],
  });
  const context = await browser.newContext({
    viewport,
    locale: 'en-GB',
    colorScheme: opts.colorScheme ?? 'light',
    // For a test's own https server on the loopback (a self-signed certificate).
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false,
  });
  const problems: Problems = { consoleErrors: [], cspViolations: [] };
  await context.exposeBinding('__reportCsp', (_source, v: string) => {
    problems.cspViolations.push(v);
  });
  // Runs before any page script (through the DevTools protocol, so the page's CSP does not apply to it).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __reportCsp: (v: string) => void };
      w.__reportCsp(
        `${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  const page = await context.newPage();
  const watch = (p: Page) => {
    p.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (/Content Security Policy/i.test(text)) problems.cspViolations.push(text);
      else problems.consoleErrors.push(text);
    });
    p.on('pageerror', (err) => problems.consoleErrors.push(`pageerror: ${err.message}`));
  };
  watch(page);
  context.on('page', watch);
  return {
    browser,
    context,
    page,
    problems,
    close: async () => {
      await browser.close();
    },
  };
}

export interface AxeFinding {
  screen: string;
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Serious and critical axe violations of the page as it is now. */
export async function axe(page: Page, screen: string): Promise<AxeFinding[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      screen,
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
}

/**
 * Signs in through the console's sign-in page, in English, whatever a step before (a failed one) left: the
 * organisation, email and password, then a TOTP code from `totpSecret` when the account has a second factor;
 * resolves on the Overview.
 */
export async function signIn(
  page: Page,
  origin: string,
  who: { organisation: string | number; email: string; password?: string; totpSecret?: string },
): Promise<void> {
  await page.goto(`${origin}/admin/`);
  const signOut = page.locator('.topbar-right .btn-small');
  await page.getByRole('heading', { name: 'Sign in to the console' }).or(signOut).waitFor();
  if (await signOut.isVisible()) await signOut.click();
  await page.getByRole('button', { name: 'EN', exact: true }).click();
  await page.getByLabel('Organisation').fill(String(who.organisation));
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (who.totpSecret) {
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await safeTotpMoment();
    await page.getByLabel('6-digit code').fill(totpCode(who.totpSecret));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** Follows a link of the main navigation (below 860 px it opens from the Menu button). */
export async function nav(page: Page, label: RegExp | string): Promise<void> {
  // #nav: its accessible name follows the language.
  const link = page.locator('#nav').getByRole('link', { name: label, exact: typeof label === 'string' });
  if (!(await link.isVisible())) await page.getByRole('button', { name: 'Menu' }).click();
  await link.click();
}
