/**
 * `npm run screenshots`: every console screen at desktop (1280×800) and phone (390×844) width, written to
 * docs/screenshots/<screen>-<desktop|phone>.png. The data is made through the API on a fresh embedded database
 * (users, a custom role, keys, peers, a few failed sign-ins, feature flags, OpenID Provider applications), so
 * what is shown is what the console really renders for it; the provider's sign-in and consent pages are reached
 * through a real authorization request.
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createTenant } from '../../src/modules/tenant-admin/index.js';
import { login } from '../helpers/factories.js';
import { client, platformOperator } from '../helpers/rbac.js';
import { makeIdpKeys } from '../helpers/saml-idp.js';
import { enrolTotp, safeTotpMoment, totpCode } from '../helpers/totp.js';
import { chromiumAvailable, launch, startServer } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'docs', 'screenshots');
const PASSWORD = 'Correct-Horse-42-battery';

if (!chromiumAvailable()) {
  console.error('chromium is missing (apt-get install -y chromium)');
  process.exit(1);
}
mkdirSync(out, { recursive: true });

const server = await startServer({ ADMIN_DEFAULT_TENANT: 'acme' });
const { app } = server;
try {
  const { tenant } = await createTenant(app.ctx, {
    slug: 'acme',
    name: 'Acme Corporation',
    admin: {
      email: 'claire.martin@acme.example',
      password: PASSWORD,
      firstName: 'Claire',
      lastName: 'Martin',
    },
  });
  const owner = client(app, await login(app, tenant.id, 'claire.martin@acme.example'));
  const must = async (p: Promise<{ statusCode: number; body: string }>) => {
    const r = await p;
    if (r.statusCode >= 300) throw new Error(`${r.statusCode} ${r.body}`);
    return r as unknown as { json: () => Record<string, never> };
  };

  const roles = (await must(owner('GET', '/api/v1/roles'))).json().roles as unknown as {
    id: string;
    code: string;
  }[];
  const roleId = (code: string) => roles.find((r) => r.code === code)!.id;
  const support = (
    await must(
      owner('POST', '/api/v1/roles', {
        code: 'support',
        name: 'Support agent',
        description: 'Helps users: reads accounts and ends sessions',
        permissions: ['sessions.revoke', 'users.write'],
        parent_role_id: roleId('viewer'),
      }),
    )
  ).json() as unknown as { id: string };
  const people = [
    ['Hugo', 'Bernard', 'manager'],
    ['Léa', 'Dubois', 'support'],
    ['Noah', 'Petit', 'member'],
    ['Emma', 'Laurent', 'viewer'],
    ['Lucas', 'Moreau', 'member'],
    ['Chloé', 'Garcia', 'admin'],
  ];
  for (const [first, last, role] of people) {
    const email = `${first!
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z]/g, '')}.${last!.toLowerCase()}@acme.example`;
    const u = (
      await must(
        owner('POST', '/api/v1/users', {
          email,
          password: PASSWORD,
          first_name: first,
          last_name: last,
          is_verified: true,
        }),
      )
    ).json() as unknown as { id: number };
    await must(
      owner('POST', `/api/v1/users/${u.id}/roles`, {
        role_id: role === 'support' ? support.id : roleId(role!),
      }),
    );
  }
  for (const [name, scopes] of [
    ['CI deploy pipeline', ['users.read']],
    ['HR sync (Workday)', ['users.read', 'users.write']],
    ['Legacy reporting', ['audit.read']],
  ] as const) {
    const k = (
      await must(owner('POST', '/api/v1/api-keys', { name, scopes: [...scopes] }))
    ).json() as unknown as { id: number };
    if (name === 'Legacy reporting') await must(owner('DELETE', `/api/v1/api-keys/${k.id}`));
  }
  for (const [name, type] of [
    ['paris-office-gw', 'gateway'],
    ['claire-laptop', 'client'],
    ['billing-service', 'service'],
  ] as const) {
    await must(
      owner('POST', '/api/v1/wireguard/peers', {
        name,
        peer_type: type,
        description: type === 'gateway' ? 'Site-to-site, Paris HQ' : undefined,
      }),
    );
  }
  // A few real failed sign-ins for the overview chart.
  for (let i = 0; i < 4; i++) {
    await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-tenant-id': 'acme' },
      payload: { email: 'noah.petit@acme.example', password: 'wrong-password' },
    });
  }
  const okta = (
    await must(
      owner('POST', '/api/v1/sso/connections', {
        type: 'oidc',
        name: 'Okta',
        domains: ['acme.example'],
        default_role: 'member',
        redirect_uris: ['https://app.acme.example/sso/done'],
        oidc: {
          issuer: 'https://acme.okta.com',
          client_id: '0oa8f2kx1sLqPz3Yd5d7',
          client_secret: 'screenshot-secret-not-shown',
        },
      }),
    )
  ).json() as unknown as { id: string };
  await must(
    owner('POST', '/api/v1/sso/connections', {
      type: 'saml',
      name: 'Entra ID (contractors)',
      enabled: false,
      default_role: 'viewer',
      saml: {
        idp_entity_id: 'https://sts.windows.net/5f1c2d3e-0000-4a6b-9c8d-acme00000001/',
        idp_sso_url: 'https://login.microsoftonline.com/5f1c2d3e-0000-4a6b-9c8d-acme00000001/saml2',
        // A real certificate: the API refuses anything that does not parse as X.509.
        idp_certificate: (await makeIdpKeys('sts.windows.example')).certificate,
      },
    }),
  );
  const ops = await platformOperator(app);
  for (const [key, description, on, pct] of [
    ['new-dashboard', 'The redesigned analytics dashboard', false, 25],
    ['passkeys-first', 'Offer passkeys before passwords at sign-in', true, null],
    ['audit-streaming', 'Stream audit events to a SIEM', false, null],
  ] as const) {
    await must(
      ops.call('POST', '/api/v1/features/catalogue', {
        key,
        description,
        default_enabled: on,
        rollout_percent: pct,
      }),
    );
  }
  await must(owner('PUT', '/api/v1/features/audit-streaming/overrides', { scope: 'tenant', enabled: true }));
  // Two people invited (the Users screen's pending invitations) and a webhook endpoint (its delivery worker is
  // off under ENV=test, so the log shows what was queued, not attempts against a receiver that does not exist).
  for (const [email, role] of [
    ['nina.petit@acme.example', support.id],
    ['omar.haddad@acme.example', roleId('viewer')],
  ] as const) {
    await must(owner('POST', '/api/v1/invitations', { email, role_ids: [role] }));
  }
  const hook = (
    await must(
      owner('POST', '/api/v1/webhooks', {
        url: 'http://127.0.0.1:9/acme/identity-events',
        events: ['user.created', 'user.deactivated', 'session.revoked', 'audit.record'],
        description: 'HR sync and the SIEM',
      }),
    )
  ).json() as unknown as { id: string };
  await must(owner('POST', `/api/v1/webhooks/${hook.id}/test`, {}));
  // Applications of the organisation's OpenID Provider: a web app (asked consent), the organisation's own
  // single-page app (first party) and a service with client-credentials tokens.
  const wikiCallback = 'https://wiki.acme.example/oauth2/callback';
  const wiki = (
    await must(
      owner('POST', '/api/v1/oidc/clients', {
        name: 'Team wiki',
        type: 'confidential',
        redirect_uris: [wikiCallback],
        post_logout_redirect_uris: ['https://wiki.acme.example/'],
        grant_types: ['authorization_code', 'refresh_token'],
        allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
      }),
    )
  ).json() as unknown as { id: string; client_id: string };
  await must(
    owner('POST', '/api/v1/oidc/clients', {
      name: 'Expense reports',
      type: 'public',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['https://expenses.acme.example/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      allowed_scopes: ['openid', 'profile', 'email', 'offline_access', 'roles'],
      first_party: true,
    }),
  );
  await must(
    owner('POST', '/api/v1/oidc/clients', {
      name: 'Nightly HR export',
      type: 'confidential',
      grant_types: ['client_credentials'],
      allowed_scopes: [],
      permissions: ['users.read'],
    }),
  );
  const { secret } = await enrolTotp(app, tenant.id, 'claire.martin@acme.example');

  const b = await launch();
  const page = b.page;
  page.setDefaultTimeout(15_000);
  const shots: string[] = [];
  async function shoot(name: string, p: Page = page) {
    await p.waitForTimeout(150);
    for (const [label, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      await p.setViewportSize(viewport);
      // The dark theme follows prefers-color-scheme (nothing picked with the switch): <name>-<width>-dark.png.
      for (const scheme of ['light', 'dark'] as const) {
        await p.emulateMedia({ colorScheme: scheme });
        await p.waitForTimeout(120);
        const file = path.join(out, `${name}-${label}${scheme === 'dark' ? '-dark' : ''}.png`);
        await p.screenshot({ path: file });
        shots.push(path.relative(root, file));
      }
    }
    await p.emulateMedia({ colorScheme: 'light' });
    await p.setViewportSize({ width: 1280, height: 800 });
  }
  async function go(pathname: string, heading: string) {
    await page.evaluate((to) => {
      window.history.pushState(null, '', to);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, `/admin${pathname}`);
    await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
    await page.waitForLoadState('networkidle');
  }

  await page.goto(`${server.origin}/admin/forgot-password`);
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  await shoot('forgot-password');
  await page.goto(`${server.origin}/admin/`);
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill('claire.martin@acme.example');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await shoot('sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Second factor' }).waitFor();
  await shoot('sign-in-mfa');
  await safeTotpMoment();
  await page.getByLabel('6-digit code').fill(totpCode(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('svg.chart-svg').waitFor();
  await page.waitForLoadState('networkidle');
  await shoot('overview');
  await go('/users', 'Users');
  await shoot('users');
  await page.getByRole('link', { name: 'Léa Dubois' }).click();
  await page.getByRole('heading', { name: 'Léa Dubois' }).waitFor();
  await page.waitForLoadState('networkidle');
  await shoot('user');
  await go('/roles', 'Roles & permissions');
  await page.getByRole('button', { name: /Support agent/ }).click();
  await shoot('roles');
  await go('/api-keys', 'API keys');
  await shoot('api-keys');
  await page.getByRole('button', { name: 'New API key' }).click();
  const kd = page.getByRole('dialog', { name: 'New API key' });
  await kd.getByLabel('Name').fill('Terraform');
  await kd.getByLabel('users.read').check();
  await kd.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('dialog', { name: 'API key created' }).waitFor();
  await shoot('api-key-created');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await go('/audit', 'Audit log');
  await page.getByTestId('chain-status').waitFor();
  await shoot('audit');
  await go('/wireguard', 'WireGuard');
  await shoot('wireguard');
  await page.getByRole('button', { name: 'New peer' }).click();
  const pd = page.getByRole('dialog', { name: 'New peer' });
  await pd.getByLabel('Name', { exact: true }).fill('hugo-phone');
  await pd.getByRole('button', { name: 'Create peer' }).click();
  await page.getByRole('dialog', { name: 'Peer hugo-phone created' }).waitFor();
  await shoot('wireguard-peer-created');
  await page.getByRole('button', { name: 'Done' }).click();
  await go('/sso', 'Single sign-on');
  await shoot('sso');
  await go(`/sso/${okta.id}`, 'Okta');
  await shoot('sso-connection');
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page
    .getByRole('dialog', { name: 'Edit Okta' })
    .getByLabel('Replace the client secret')
    .scrollIntoViewIfNeeded();
  await shoot('sso-edit');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await go('/webhooks', 'Webhooks');
  await shoot('webhooks');
  await go(`/webhooks/${hook.id}`, 'Webhook endpoint');
  await shoot('webhook-endpoint');
  await go('/applications', 'Applications (OIDC)');
  await shoot('applications');
  await go(`/applications/${wiki.id}`, 'Team wiki');
  await shoot('application');
  await go('/features', 'Feature flags');
  await shoot('features');
  await go('/settings', 'Tenant settings');
  await shoot('settings');
  // What a refused form looks like: the API's error under its field.
  await page.getByLabel('Allowed IP ranges').fill('10.0.0.0/33');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Not an IP range (CIDR) or IP address').waitFor();
  await page.getByLabel('Allowed IP ranges').scrollIntoViewIfNeeded();
  await shoot('settings-field-error');
  await go('/sessions', 'My sessions');
  await shoot('sessions');
  await go('/profile', 'My profile');
  await shoot('profile');
  await b.close();
  // The one refused save above is on purpose (Chrome logs its 422).
  b.problems.consoleErrors = b.problems.consoleErrors.filter((e) => !/status of 422/.test(e));
  if (b.problems.consoleErrors.length || b.problems.cspViolations.length) {
    console.error(b.problems);
    process.exitCode = 1;
  }

  // The OpenID Provider's sign-in and consent page, in a browser signed in to nothing: Team wiki sends Noah to
  // the provider (offline_access is asked with prompt=consent, as OpenID Connect Core wants); the page is the
  // provider's real /admin/authorize. Nothing is allowed: the application's callback does not exist.
  const rp = await launch();
  const op = rp.page;
  op.setDefaultTimeout(15_000);
  const authorize = new URL(`${server.origin}/oidc/acme/auth`);
  authorize.search = new URLSearchParams({
    client_id: wiki.client_id,
    response_type: 'code',
    redirect_uri: wikiCallback,
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    state: 'screenshot-state',
    nonce: 'screenshot-nonce',
    code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: 'noah.petit@acme.example',
  }).toString();
  await op.goto(authorize.href);
  await op.getByRole('heading', { name: 'Sign in to continue to Team wiki' }).waitFor();
  await op.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await shoot('authorize-sign-in', op);
  await op.getByRole('button', { name: 'Sign in' }).click();
  await op.getByRole('heading', { name: 'Allow Team wiki?' }).waitFor();
  await shoot('authorize-consent', op);
  await rp.close();
  if (rp.problems.consoleErrors.length || rp.problems.cspViolations.length) {
    console.error(rp.problems);
    process.exitCode = 1;
  }
  console.log(`wrote ${shots.length} screenshots to ${path.relative(root, out)}/`);
} finally {
  await server.close();
}
