/**
 * The tenant OpenID Provider under load (issue 21): one tenant, a service client with `users.read`. Measured with
 * autocannon in the same run, same process: the token endpoint issuing client-credentials tokens (client secret
 * checked against its hash, JWT signed RS256), then `GET /api/v1/users?limit=20` called with that machine token
 * beside the same call with the admin's own access token (the baseline: the ratio says what a machine token costs
 * the guard). Embedded by default; DATABASE_URL and REDIS_URL for PostgreSQL and Redis. `npm run bench:oidc`.
 * Prints one JSON line.
 */
import autocannon from 'autocannon';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTenant } from '../src/modules/tenant-admin/index.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PASSWORD = 'Bench-Password-2026!';

// The issuer is PUBLIC_URL/oidc/{slug}: the port is chosen first, then the app is built for it.
const port = 18_000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
const config = loadConfig(
  {
    ...process.env,
    ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_URL: base,
    JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    PGLITE_DIR: process.env.DATABASE_URL ? undefined : 'memory://',
    STORE_PREFIX: `bench-oidc:${process.pid}:`,
    ARGON2_MEMORY_KIB: '4096',
    ARGON2_TIME_COST: '1',
    RATE_LIMIT_ENABLED: 'false',
  },
  { persistSecrets: false },
);
const app = await buildApp(config, { migrate: true });
await app.listen({ port, host: '127.0.0.1' });

const slug = `bench-oidc-${process.pid}`;
const { tenant } = await createTenant(app.ctx, {
  slug,
  name: 'Bench OIDC',
  admin: { email: `admin@${slug}.test`, password: PASSWORD, firstName: 'Bench', lastName: 'Admin' },
});
const login = await app.inject({
  method: 'POST',
  url: '/api/v1/auth/login',
  headers: { 'x-tenant-id': String(tenant.id) },
  payload: { email: `admin@${slug}.test`, password: PASSWORD },
});
const userToken = login.json().access_token as string;
const registered = await app.inject({
  method: 'POST',
  url: '/api/v1/oidc/clients',
  headers: { authorization: `Bearer ${userToken}` },
  payload: {
    name: 'Bench service',
    type: 'confidential',
    grant_types: ['client_credentials'],
    allowed_scopes: ['openid'],
    permissions: ['users.read'],
  },
});
if (registered.statusCode !== 201) throw new Error(`client: ${registered.statusCode} ${registered.body}`);
const { client_id, client_secret } = registered.json() as { client_id: string; client_secret: string };
const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
const tokenBody = 'grant_type=client_credentials&scope=users.read';
const tokenHeaders = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
const first = await fetch(`${base}/oidc/${slug}/token`, {
  method: 'POST',
  headers: tokenHeaders,
  body: tokenBody,
});
const machineToken = ((await first.json()) as { access_token: string }).access_token;

async function measure(
  path: string,
  opts: { method?: string; headers: Record<string, string>; body?: string },
) {
  const r = await autocannon({
    url: `${base}${path}`,
    method: (opts.method ?? 'GET') as 'GET',
    headers: opts.headers,
    body: opts.body,
    connections: CONNECTIONS,
    duration: DURATION,
  });
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx + r.errors,
  };
}

const users = '/api/v1/users?limit=20';
const token = await measure(`/oidc/${slug}/token`, {
  method: 'POST',
  headers: tokenHeaders,
  body: tokenBody,
});
const withUser = await measure(users, { headers: { authorization: `Bearer ${userToken}` } });
const withMachine = await measure(users, { headers: { authorization: `Bearer ${machineToken}` } });
console.log(
  JSON.stringify({
    backend: process.env.DATABASE_URL ? 'postgresql+redis' : 'embedded',
    connections: CONNECTIONS,
    duration_s: DURATION,
    token_endpoint_client_credentials: token,
    users_list_user_token: withUser,
    users_list_machine_token: withMachine,
    machine_vs_user_rps: Number((withMachine.rps / withUser.rps).toFixed(2)),
  }),
);
await app.close();
