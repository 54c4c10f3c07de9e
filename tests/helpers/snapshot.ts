/**
 * One migrated embedded database for the whole test run. initdb and the migrations cost every embedded test file
 * seconds (initdb most of it); vitest's globalSetup (tests/helpers/global-setup.ts) runs them once, dumps the data
 * directory (PGlite's `dumpDataDir`, an uncompressed tarball) to a file named by the migrations and the PGlite
 * version, and every in-memory PGlite of the run starts from that file (`loadDataDir`) instead.
 *
 * A later run with the same migrations reuses the file; a changed or added migration names another file.
 */
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated PGlite snapshot of this run (a file path); null on the PostgreSQL backend. */
    pgliteSnapshot: string | null;
  }
}

let loaded: Promise<Blob | undefined> | undefined;

/**
 * This run's migrated snapshot, read once per worker process; undefined on the PostgreSQL backend or outside the
 * vitest projects that build it (then callers migrate a fresh database, as before).
 */
export function pgliteSnapshot(): Promise<Blob | undefined> {
  loaded ??= (async () => {
    const file = inject('pgliteSnapshot');
    if (!file) return undefined;
    return new Blob([await readFile(file)]);
  })();
  return loaded;
}
