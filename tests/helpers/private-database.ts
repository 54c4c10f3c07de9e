/**
 * A PostgreSQL database of a test file's own, for tests that change what every other file shares: global tables
 * (the SAML SP key, the signing keys), the schema version, the owner role. Test files run in parallel against
 * one database on the real backend, so a test that re-seals or deletes a global row there makes another file's
 * request fail in between (seen in CI: a SAML authorize answered 500 while the SP key was sealed under k2).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Runs `fn` on a client connected to DATABASE_URL (the server's admin connection of the test run). */
export async function adminClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface PrivateDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database beside DATABASE_URL's (same server and user); `drop()` removes it. */
export async function createPrivateDatabase(prefix: string): Promise<PrivateDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await adminClient((c) => c.query(`create database ${name}`));
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminClient((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}
