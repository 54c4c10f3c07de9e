/**
 * Issue 23 item 6: doors expose what others use. The check runs over a small tree written to a temporary
 * directory: an export another module imports passes; one nothing outside imports, and a table exported through
 * a door, are each reported by name.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { doorReport } from '../../scripts/door-exports.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'massacorp-doors-'));
  roots.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

const base = {
  'src/modules/tenants/tables.ts': "export const tenants = pgTable('tenants', {});\n",
  'src/modules/tenants/service.ts':
    'export const findTenant = (id: number) => ({ id });\nexport type TenantRow = { id: number };\n',
  'src/modules/rbac/service.ts':
    "import { findTenant, type TenantRow } from '../tenants/index.js';\nexport const roles = (t: TenantRow) => findTenant(t.id);\n",
  'src/app.ts':
    "import { tenantsModule } from './modules/tenants/index.js';\nexport const modules = [tenantsModule];\n",
};

describe('door exports', () => {
  it('passes when every door export is imported from outside its module', () => {
    const root = project({
      ...base,
      'src/modules/tenants/index.ts':
        "export const tenantsModule = { name: 'tenants' };\nexport { findTenant, type TenantRow } from './service.js';\n",
    });
    const r = doorReport(root);
    expect(r).toEqual({ unused: [], tables: [], total: 3 });
  });

  it('reports an export nothing outside uses (an import inside the module does not count) and a table', () => {
    const root = project({
      ...base,
      'src/modules/tenants/index.ts': [
        "export const tenantsModule = { name: 'tenants' };",
        "export { findTenant, type TenantRow } from './service.js';",
        "export { tenants } from './tables.js';",
        'export function internalOnly() { return 1; }',
        '',
      ].join('\n'),
      'src/modules/tenants/routes.ts':
        "import { internalOnly } from './index.js';\nexport const r = internalOnly();\n",
    });
    const r = doorReport(root);
    expect(r.unused.map((e) => e.name).sort()).toEqual(['internalOnly', 'tenants']);
    expect(r.tables).toEqual([
      { module: 'tenants', name: 'tenants', origin: 'src/modules/tenants/tables.ts' },
    ]);
  });
});
