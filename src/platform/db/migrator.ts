/**
 * Applies the SQL files of `drizzle/` in name order, once each, recording them in `massacorp_migrations`.
 * A session advisory lock makes concurrent starters (replicas, parallel test workers) take turns.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './client.js';

const MIGRATION_LOCK = 0x6d617373; // "mass"
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../drizzle');

async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
}

/** The last migration this code ships: the schema version it expects in `massacorp_migrations` (/ready). */
export async function expectedSchemaVersion(dir = MIGRATIONS_DIR): Promise<string | null> {
  return (await migrationFiles(dir)).at(-1) ?? null;
}

export async function migrate(database: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = await migrationFiles(dir);
  return database.withAdvisoryLock(MIGRATION_LOCK, async () => {
    await database.execScript(
      'create table if not exists massacorp_migrations (name text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await database.query<{ name: string }>('select name from massacorp_migrations')).map((r) => r.name),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const body = await readFile(path.join(dir, file), 'utf8');
      const escaped = file.replace(/'/g, "''");
      // One script per file, inside one transaction: a failing migration leaves nothing half-applied.
      await database.execScript(
        `begin;\n${body}\n;insert into massacorp_migrations(name) values ('${escaped}');\ncommit;`,
      );
      applied.push(file);
    }
    return applied;
  });
}
