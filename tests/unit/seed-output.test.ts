/** Issue 24 item 8: a generated admin password reaches a terminal, never a log; the file is its owner's only. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INITIAL_PASSWORD_FILE, seedAnnouncement, startupBanner } from '../../src/seed-output.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mc-seed-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seeded = {
  tenantId: 1,
  email: 'admin@massacorp.dev',
  password: 'Gen3rated-Secret-Aa1!',
  generated: true,
};

describe('seed output (issue 24 item 8)', () => {
  it('to a terminal: the password is printed and no file is written', () => {
    const d = path.join(dir, 'tty');
    const text = seedAnnouncement(seeded, d, true);
    expect(text).toContain(`Generated password (shown once): ${seeded.password}`);
    expect(existsSync(path.join(d, INITIAL_PASSWORD_FILE))).toBe(false);
  });

  it('not a terminal: the output names the file, never the password; the file is 0600, even over an older one', () => {
    const d = path.join(dir, 'pipe');
    const file = path.join(d, INITIAL_PASSWORD_FILE);
    const first = seedAnnouncement(seeded, d, false);
    expect(first).not.toContain(seeded.password);
    expect(first).toContain(`Generated password written to ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(`${seeded.password}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A file left world-readable (copied, restored) is tightened when it is written again.
    writeFileSync(file, 'old\n', { mode: 0o644 });
    seedAnnouncement({ ...seeded, password: 'An0ther-Secret-Aa1!' }, d, false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('An0ther-Secret-Aa1!\n');
  });

  it('SEED_ADMIN_PASSWORD: nothing to reveal, nothing written', () => {
    const d = path.join(dir, 'given');
    const text = seedAnnouncement({ ...seeded, generated: false }, d, false);
    expect(text).toContain('Password: SEED_ADMIN_PASSWORD');
    expect(text).not.toContain(seeded.password);
    expect(existsSync(path.join(d, INITIAL_PASSWORD_FILE))).toBe(false);
  });
});

describe('start-up block (issue 20 item 8)', () => {
  const facts = {
    publicUrl: 'http://localhost:8000/',
    docsUi: true,
    organisation: 'massacorp',
    seeded: null,
    dataDir: path.join(dir, 'banner'),
    toTerminal: false,
    cli: 'npm run cli --',
  };

  it('names the console, the API docs and the organisation, and how to reset a lost password', () => {
    const text = startupBanner(facts);
    expect(text).toContain('Console:       http://localhost:8000/admin');
    expect(text).toContain('API docs:      http://localhost:8000/docs');
    expect(text).toContain('Organisation:  massacorp');
    expect(text).toContain('npm run cli -- admin reset-password --tenant massacorp --email <email>');
    // From the build (the image, `npm run start:prod`) the command is the built CLI: no tsx or sources there.
    expect(startupBanner({ ...facts, cli: 'node dist/cli.js' })).toContain(
      'Lost password: node dist/cli.js admin reset-password --tenant massacorp',
    );
    expect(text).not.toContain('Password:');
    // Production serves no Swagger UI: the document is the reference.
    expect(startupBanner({ ...facts, docsUi: false })).toContain('http://localhost:8000/openapi.json');
  });

  it('just seeded: the password to a terminal, else only the 0600 file it went to', () => {
    const tty = startupBanner({ ...facts, seeded, toTerminal: true });
    expect(tty).toContain(`Password:      ${seeded.password} (generated, shown once)`);
    expect(tty).toContain('Admin:         admin@massacorp.dev');
    const piped = startupBanner({ ...facts, seeded });
    const file = path.join(facts.dataDir, INITIAL_PASSWORD_FILE);
    expect(piped).not.toContain(seeded.password);
    expect(piped).toContain(`written to ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(startupBanner({ ...facts, seeded: { ...seeded, generated: false } })).toContain(
      'Password:      SEED_ADMIN_PASSWORD',
    );
  });
});
