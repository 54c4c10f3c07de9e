/**
 * Where a generated admin password goes after seeding (main.ts, `massacorp seed`). Container engines keep stdout
 * in their logs, readable by whoever reads logs and kept as long as they are: the password is printed only to a
 * terminal. Otherwise it is written to DATA_DIR/initial-admin-password, readable by its owner only, and the
 * output says where, never what.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';
/** Where `massacorp admin reset-password` puts a generated password when stdout is not a terminal. */
export const RESET_PASSWORD_FILE = 'reset-admin-password';

export interface SeedOutcome {
  tenantId: number;
  email: string;
  password: string;
  /** false: the password came from SEED_ADMIN_PASSWORD, which the operator already knows. */
  generated: boolean;
}

/**
 * Writes a one-time password to `DATA_DIR/<name>`, readable by its owner only (mode applies only when the file is
 * created: chmod covers a file left by an earlier run); returns the file's path.
 */
export function writeSecretFile(dataDir: string, name: string, secret: string): string {
  const file = path.join(dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** What to say of the seeded password: itself to a terminal, else the file it went to (written here). */
function passwordText(seeded: SeedOutcome, dataDir: string, toTerminal: boolean): string {
  if (!seeded.generated) return 'SEED_ADMIN_PASSWORD';
  if (toTerminal) return `${seeded.password} (generated, shown once)`;
  const file = writeSecretFile(dataDir, INITIAL_PASSWORD_FILE, seeded.password);
  return (
    `generated, written to ${file} (readable by this user only; output is not a terminal, so it is not printed).` +
    ' Read it, sign in, change it, then delete the file.'
  );
}

/** The lines to print (already free of the password unless `toTerminal`); writes the file when needed. */
export function seedAnnouncement(seeded: SeedOutcome, dataDir: string, toTerminal: boolean): string {
  const head = `\n  Seeded tenant ${seeded.tenantId} (massacorp) with admin ${seeded.email}\n`;
  if (!seeded.generated) return `${head}  Password: SEED_ADMIN_PASSWORD\n\n`;
  if (toTerminal) return `${head}  Generated password (shown once): ${seeded.password}\n\n`;
  const file = writeSecretFile(dataDir, INITIAL_PASSWORD_FILE, seeded.password);
  return (
    `${head}  Generated password written to ${file} (readable by this user only; output is not a terminal,` +
    ' so it is not printed). Read it, sign in, change it, then delete the file.\n\n'
  );
}

export interface StartupFacts {
  publicUrl: string;
  /** Swagger UI is served (not in production): else the OpenAPI document is the reference. */
  docsUi: boolean;
  /** The organisation to sign in to (the seeded or first tenant's slug), when there is one. */
  organisation: string | null;
  /** Just seeded: its admin and password (printed, or written to a 0600 file). */
  seeded: SeedOutcome | null;
  dataDir: string;
  toTerminal: boolean;
  /** The CLI as this process runs: `npm run cli --` from the sources, `node dist/cli.js` from the build (the
   * image has no tsx and no sources, so the source command would fail there). */
  cli: string;
}

/**
 * The one block `npm start` prints once it listens (issue 20 item 8): where the console and the API reference are,
 * the organisation to sign in to, and, right after the first seed, the admin and their one-time password (or
 * the file it went to) with the command that makes a new one.
 */
export function startupBanner(f: StartupFacts): string {
  const base = f.publicUrl.replace(/\/+$/, '');
  const rows: [string, string][] = [
    ['Console', `${base}/admin`],
    ['API docs', f.docsUi ? `${base}/docs` : `${base}/openapi.json`],
  ];
  // Right after the seed, the tenant's id too: the API's X-Tenant-ID header takes it.
  if (f.organisation)
    rows.push([
      'Organisation',
      f.seeded ? `${f.organisation} (tenant id ${f.seeded.tenantId})` : f.organisation,
    ]);
  if (f.seeded) {
    rows.push(['Admin', f.seeded.email]);
    rows.push(['Password', passwordText(f.seeded, f.dataDir, f.toTerminal)]);
  }
  if (f.organisation)
    rows.push([
      'Lost password',
      `${f.cli} admin reset-password --tenant ${f.organisation} --email ${f.seeded?.email ?? '<email>'}`,
    ]);
  const rule = `  ${'='.repeat(76)}`;
  return [
    '',
    rule,
    '  MassaCorp is ready',
    rule,
    ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(15)}${v}`),
    rule,
    '',
    '',
  ].join('\n');
}
