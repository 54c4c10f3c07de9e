/** Issue 23 item 4: `npm run lint` fails on module-specific strings in platform/ code (scripts/boundaries.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { platformLeaks } from '../../scripts/boundaries.js';

const roots: string[] = [];
function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'massacorp-leaks-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const tables = { 'src/modules/things/tables.ts': "export const things = pgTable('things', {});\n" };

describe('the platform knows no module', () => {
  it('the repository: no module-specific string in src/platform', () => {
    expect(platformLeaks(path.resolve(import.meta.dirname, '../..'))).toEqual([]);
  });

  it('flags the key prefix, a module URL, an API key error code and SQL on a module table; not in comments', () => {
    const root = project({
      ...tables,
      'src/platform/audit/own.ts': "export const t = pgTable('audit_log', {});\n",
      'src/platform/http/guard.ts': [
        '// mc_sk_ keys and /api/v1/auth are the modules\u2019 business (a comment: allowed)',
        "/* select * from things */ export const info = '/api/v1/info';",
        "export const isKey = (t: string) => t.startsWith('mc_sk_');",
        "export const open = (u: string) => u.startsWith('/api/v1/mfa');",
        "export const code = 'API_KEY_REVOKED';",
        'export const q = sql`select id from things where x = 1`;',
        'export const own = sql`select 1 from audit_log`;',
      ].join('\n'),
    });
    expect(platformLeaks(root)).toEqual([
      { file: 'src/platform/http/guard.ts', line: 3, what: 'the API key prefix' },
      { file: 'src/platform/http/guard.ts', line: 4, what: "a module's URL" },
      { file: 'src/platform/http/guard.ts', line: 5, what: "the API keys module's error codes" },
      { file: 'src/platform/http/guard.ts', line: 6, what: "SQL on a module's table" },
    ]);
  });
});
