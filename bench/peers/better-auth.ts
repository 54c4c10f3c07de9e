/**
 * Bench peer (its own process): Better Auth with email+password on the bench's PostgreSQL, in its own schema
 * (`better_auth_bench`, created here, tables made by Better Auth's own migrations), served by plain node:http
 * through `toNodeHandler` as Better Auth's Node integration recommends. Its defaults otherwise (no cookie
 * cache: get-session reads the session from PostgreSQL; scrypt for passwords); its rate limiter off, as ours
 * is under the bench.
 * Prints one JSON line: { port, cookie, email, password }.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import pg from 'pg';

const SCHEMA = 'better_auth_bench';
const url = process.env.DATABASE_URL;
if (!url) throw new Error('the Better Auth peer needs DATABASE_URL');

const admin = new pg.Client({ connectionString: url });
await admin.connect();
// A clean schema each run: the migrations create its tables, nothing of the app's is touched.
await admin.query(`drop schema if exists ${SCHEMA} cascade`);
await admin.query(`create schema ${SCHEMA}`);
await admin.end();

const pool = new pg.Pool({
  connectionString: url,
  max: Number(process.env.DB_POOL_MAX ?? 10),
  options: `-c search_path=${SCHEMA}`,
});
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const options = {
  database: pool,
  baseURL,
  secret: 'bench-better-auth-secret-0123456789abcdef',
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  logger: { disabled: true },
  telemetry: { enabled: false },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const email = 'bench@better-auth.test';
const password = 'Bench-Password-2026!';
await auth.api.signUpEmail({ body: { email, password, name: 'Bench' } });
const signIn = await auth.api.signInEmail({ body: { email, password }, returnHeaders: true });
const cookie = (signIn.headers.getSetCookie?.() ?? [signIn.headers.get('set-cookie') ?? ''])
  .map((c) => c.split(';')[0])
  .join('; ');

server.on('request', toNodeHandler(auth));
console.log(
  JSON.stringify({ port: (server.address() as AddressInfo).port, origin: baseURL, cookie, email, password }),
);
process.on('SIGTERM', async () => {
  server.close();
  await pool.end();
  process.exit(0);
});
