/**
 * vitest globalSetup: on the embedded backend, migrates one PGlite once for the whole run and hands the path of its
 * dump to every worker (tests/helpers/snapshot.ts). On PostgreSQL (DATABASE_URL) the run shares one database,
 * migrated by the first file to get the migrator's advisory lock: nothing to prepare.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { testConfig } from '../../src/config.js';
import { createDatabase } from '../../src/platform/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/platform/db/migrator.js';

export default async function setup(project: TestProject) {
  project.provide('pgliteSnapshot', process.env.DATABASE_URL ? null : await buildSnapshot());
}

async function snapshotName(): Promise<string> {
  const hash = createHash('sha256');
  // The data directory's format is PGlite's (its PostgreSQL version): another PGlite, another snapshot.
  hash.update(await readFile(path.join(MIGRATIONS_DIR, '../node_modules/@electric-sql/pglite/package.json')));
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) {
    if (!file.endsWith('.sql')) continue;
    hash.update(`${file}\n`);
    hash.update(await readFile(path.join(MIGRATIONS_DIR, file)));
  }
  return `massacorp-pglite-${hash.digest('hex').slice(0, 16)}.tar`;
}

/** Migrates a fresh in-memory PGlite and dumps it, unless this run's snapshot exists already. Returns its path. */
export async function buildSnapshot(dir = os.tmpdir()): Promise<string> {
  const file = path.join(dir, await snapshotName());
  if (existsSync(file)) return file;
  const database = await createDatabase(testConfig({ DATABASE_URL: undefined, PGLITE_DIR: 'memory://' }));
  try {
    await migrate(database);
    const client = (database.db as unknown as { $client: PGlite }).$client;
    const dump = await client.dumpDataDir('none');
    // Written aside then renamed: a concurrent run never reads half a file.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await database.close();
  }
  return file;
}
