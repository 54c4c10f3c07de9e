/**
 * Issue 22's console screen in Debian's chromium against the real API: an admin adds a webhook endpoint (events
 * from the catalogue), copies its secret (shown once), sends a test event and sees it delivered to a real
 * receiver (which verifies the signature with the standardwebhooks library), replays it, rotates the secret,
 * disables the endpoint and deletes it. axe on both screens in light and dark, CSP and console errors watched,
 * nothing scrolling sideways at 390 px.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookWorker } from '../../src/modules/webhooks/worker.js';
import { newTenant, PASSWORD } from '../helpers/factories.js';
import {
  type AxeFinding,
  axe,
  type Browsing,
  chromiumAvailable,
  launch,
  nav,
  type Server,
  signIn,
  startServer,
} from './harness.js';

if (!chromiumAvailable() && process.env.CI)
  throw new Error('chromium is missing: apt-get install -y chromium');

let server: Server;
let receiver: http.Server;
const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
const findings: AxeFinding[] = [];

/** Until the worker has nothing left to send now (it runs only when stepped in tests). */
async function deliver() {
  for (let i = 0; i < 20; i++) {
    const r = await webhookWorker(server.app.ctx).tick();
    if (r.fannedOut === 0 && r.sent === 0) return;
  }
}

/** Whether the page or an open dialog is wider than its box. */
const sideways = (page: Page) =>
  page.evaluate(() => {
    const doc = document.scrollingElement!;
    const out = doc.scrollWidth > doc.clientWidth ? [`page ${doc.scrollWidth} > ${doc.clientWidth}`] : [];
    for (const d of document.querySelectorAll('dialog[open]'))
      if (d.scrollWidth > d.clientWidth) out.push(`dialog ${d.scrollWidth} > ${d.clientWidth}`);
    return out;
  });

describe.skipIf(!chromiumAvailable())('issue 22: webhooks in the console', () => {
  beforeAll(async () => {
    server = await startServer();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  }, 120_000);
  afterAll(async () => {
    receiver?.close();
    await server?.close();
  });

  it('an admin adds an endpoint, keeps its secret, tests, replays, rotates, disables and deletes it', async () => {
    const { tenant, admin } = await newTenant(server.app);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    for (const [viewport, scheme] of [
      [{ width: 1440, height: 900 }, 'light'],
      [{ width: 390, height: 844 }, 'dark'],
    ] as const) {
      const b: Browsing = await launch(viewport, { colorScheme: scheme });
      try {
        const page = b.page;
        await signIn(page, server.origin, { organisation: tenant.slug, email: admin.email });
        await nav(page, 'Webhooks');
        await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
        findings.push(...(await axe(page, `webhooks list ${scheme}`)));
        await page.getByRole('button', { name: 'Add endpoint' }).first().click();
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Endpoint URL').fill(`${url}?v=${viewport.width}`);
        await dialog.getByLabel('Description').fill('CRM sync');
        await dialog.getByLabel('user.created').check();
        await dialog.getByLabel('webhook.test', { exact: true }).count();
        expect(await sideways(page)).toEqual([]);
        await dialog.getByRole('button', { name: 'Add endpoint' }).click();
        const secret = (await page.getByTestId('webhook-secret').textContent())!.trim();
        expect(secret).toMatch(/^whsec_/);
        findings.push(...(await axe(page, `webhook secret ${scheme}`)));
        await page.getByRole('button', { name: 'I have stored it' }).click();
        await page.getByRole('link', { name: `${url}?v=${viewport.width}` }).click();
        await page.getByRole('heading', { name: 'Webhook endpoint' }).waitFor();
        expect(await sideways(page)).toEqual([]);

        // A test event, delivered for real and verified with the spec's library.
        got.length = 0;
        await page.getByRole('button', { name: 'Send test event' }).click();
        await page.getByText('Test event queued').waitFor();
        await deliver();
        expect(got).toHaveLength(1);
        const event = new Webhook(secret).verify(got[0]!.body, {
          'webhook-id': String(got[0]!.headers['webhook-id']),
          'webhook-timestamp': String(got[0]!.headers['webhook-timestamp']),
          'webhook-signature': String(got[0]!.headers['webhook-signature']),
        }) as { type: string };
        expect(event.type).toBe('webhook.test');
        await page.reload();
        await page.getByTestId('delivery-webhook.test').getByText('Delivered').waitFor();

        // A real event (a user created through the API), then its replay from the log.
        const created = await server.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: { 'x-tenant-id': String(tenant.id) },
          payload: { email: admin.email, password: PASSWORD },
        });
        const token = created.json().access_token as string;
        const user = await server.app.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: { authorization: `Bearer ${token}` },
          payload: {
            email: `hooked-${viewport.width}@example.test`,
            password: PASSWORD,
            first_name: 'H',
            last_name: 'K',
          },
        });
        expect(user.statusCode, user.body).toBe(201);
        await deliver();
        await page.reload();
        const row = page.getByTestId('delivery-user.created');
        await row.getByText('Delivered').waitFor();
        findings.push(...(await axe(page, `webhook deliveries ${scheme}`)));
        got.length = 0;
        await row.getByRole('button', { name: /^Replay/ }).click();
        await page.getByText('Event queued again').waitFor();
        await deliver();
        expect(got.map((g) => JSON.parse(g.body).type)).toEqual(['user.created']);

        // Rotation: the new secret is shown once and verifies the next delivery.
        await page.getByRole('button', { name: 'Rotate secret' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Rotate secret' }).click();
        const rotated = (await page.getByTestId('webhook-secret').textContent())!.trim();
        expect(rotated).not.toBe(secret);
        await page.getByRole('button', { name: 'I have stored it' }).click();
        await page.getByText('still signs until').waitFor();

        await page.getByRole('button', { name: 'Disable' }).click();
        await page.getByText('Endpoint disabled').waitFor();
        await page.getByText('Disabled', { exact: true }).first().waitFor();
        expect(await page.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);

        await page.getByRole('link', { name: 'All endpoints' }).click();
        await page.getByRole('button', { name: `Delete the endpoint ${url}?v=${viewport.width}` }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete endpoint' }).click();
        await page.getByText('Endpoint deleted').waitFor();
        expect(await sideways(page)).toEqual([]);
        expect(b.problems.cspViolations).toEqual([]);
        expect(b.problems.consoleErrors).toEqual([]);
      } finally {
        await b.close();
      }
    }
    expect(findings.filter((f) => f.impact === 'serious' || f.impact === 'critical')).toEqual([]);
  }, 240_000);
});
