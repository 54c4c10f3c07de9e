/**
 * Where a generated admin password goes after seeding (main.ts, `massacorp seed`). Container engines keep stdout
 * in their logs, readable by whoever reads logs and kept as long as they are: the password is printed only to a
 * terminal. Otherwise it is written to DATA_DIR/initial-admin-password, readable by its owner only, and the
 * output says where, never what.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

export interface SeedOutcome {
  tenantId: number;
  email: string;
  password: string;
  /** false: the password came from SEED_ADMIN_PASSWORD, which the operator already knows. */
  generated: boolean;
}

/** The lines to print (already free of the password unless `toTerminal`); writes the file when needed. */
export function seedAnnouncement(seeded: SeedOutcome, dataDir: string, toTerminal: boolean): string {
  const head = `\n  Seeded tenant ${seeded.tenantId} (massacorp) with admin ${seeded.email}\n`;
  if (!seeded.generated) return `${head}  Password: SEED_ADMIN_PASSWORD\n\n`;
  if (toTerminal) return `${head}  Generated password (shown once): ${seeded.password}\n\n`;
  const file = path.join(dataDir, INITIAL_PASSWORD_FILE);
  mkdirSync(dataDir, { recursive: true });
  // mode applies only when the file is created: chmod covers a file left by an earlier seed.
  writeFileSync(file, `${seeded.password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return (
    `${head}  Generated password written to ${file} (readable by this user only; output is not a terminal,` +
    ' so it is not printed). Read it, sign in, change it, then delete the file.\n\n'
  );
}
