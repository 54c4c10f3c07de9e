/**
 * Issue 11: the module boundary rules bite. The project's own .dependency-cruiser.cjs and layering list are run
 * (through scripts/boundaries.ts, as `npm run lint` does) over a small tree written to a temporary directory: clean,
 * it passes; with one forbidden import per rule, each rule reports exactly that import.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Boundaries, cruiseBoundaries, mermaid, replaceGraph } from '../../scripts/boundaries.js';

const repo = path.resolve(import.meta.dirname, '../..');
const roots: string[] = [];

/** A project with the repository's boundary config and the given source files. */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'massacorp-boundaries-'));
  roots.push(root);
  cpSync(path.join(repo, '.dependency-cruiser.cjs'), path.join(root, '.dependency-cruiser.cjs'));
  mkdirSync(path.join(root, 'scripts'));
  cpSync(path.join(repo, 'scripts/module-layers.json'), path.join(root, 'scripts/module-layers.json'));
  writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
      include: ['src'],
    }),
  );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** Modules that respect every rule: rbac uses tenants' door, the platform knows no module. */
const clean: Record<string, string> = {
  'src/platform/context.ts': 'export interface AppContext { tenancy: { resolve(slug: string): number } }\n',
  'src/modules/tenants/repository.ts': 'export const findTenant = (id: number) => ({ id });\n',
  'src/modules/tenants/index.ts': [
    "import type { AppContext } from '../../platform/context.js';",
    "import { findTenant } from './repository.js';",
    'export const tenantOf = (ctx: AppContext, id: number) => findTenant(id ?? ctx.tenancy.resolve(""));',
    '',
  ].join('\n'),
  'src/modules/rbac/service.ts':
    "import { tenantOf } from '../tenants/index.js';\nexport const r = tenantOf;\n",
  'src/modules/rbac/index.ts': "export { r } from './service.js';\n",
  'src/modules/users/a.ts': 'export const a = 1;\n',
  'src/app.ts': "import { tenantOf } from './modules/tenants/index.js';\nexport const app = tenantOf;\n",
};

/** One forbidden import per rule. */
const forbidden: Record<string, string> = {
  ...clean,
  // module-door: another module's repository instead of its index.ts.
  'src/modules/rbac/service.ts':
    "import { findTenant } from '../tenants/repository.js';\nexport const r = findTenant;\n",
  // platform-not-modules.
  'src/platform/http/guard.ts':
    "import { tenantOf } from '../../modules/tenants/index.js';\nexport const g = tenantOf;\n",
  // no-circular between two files of one module.
  'src/modules/users/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
  'src/modules/users/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  // layering (tenants is above rbac), which also closes a folder cycle: tenants → rbac → tenants.
  'src/modules/tenants/service.ts': "import { r } from '../rbac/index.js';\nexport const s = r;\n",
  // outside-door: the composition root reaching past a module's door.
  'src/app.ts':
    "import { findTenant } from './modules/tenants/repository.js';\nexport const app = findTenant;\n",
  // module-not-layered: a module folder missing from scripts/module-layers.json.
  'src/modules/billing/index.ts':
    "import { tenantOf } from '../tenants/index.js';\nexport const billing = tenantOf;\n",
};

let ok: Boundaries;
let bad: Boundaries;
beforeAll(async () => {
  ok = await cruiseBoundaries(project(clean));
  bad = await cruiseBoundaries(project(forbidden));
}, 60_000);
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const pairs = (b: Boundaries, rule: string) =>
  b.violations.filter((v) => v.rule === rule).map((v) => `${v.from} -> ${v.to}`);

describe('issue 11: the module boundary rules fail on a forbidden import', () => {
  it('a tree that keeps the rules passes: no violation, no folder cycle', () => {
    expect(ok.violations).toEqual([]);
    expect(ok.folderCycles).toEqual([]);
    expect([...(ok.graph.get('rbac')?.keys() ?? [])]).toEqual(['tenants']);
  });

  it('module-door: importing another module other than through its index.ts', () => {
    expect(pairs(bad, 'module-door')).toEqual([
      'src/modules/rbac/service.ts -> src/modules/tenants/repository.ts',
    ]);
  });

  it('outside-door: the composition root or the CLI importing a module other than through its index.ts', () => {
    expect(pairs(bad, 'outside-door')).toEqual(['src/app.ts -> src/modules/tenants/repository.ts']);
  });

  it('platform-not-modules: src/platform importing src/modules', () => {
    expect(pairs(bad, 'platform-not-modules')).toEqual([
      'src/platform/http/guard.ts -> src/modules/tenants/index.ts',
    ]);
  });

  it('no-circular: a cycle between files (reported once)', () => {
    expect(pairs(bad, 'no-circular')).toEqual(['src/modules/users/a.ts -> src/modules/users/b.ts']);
  });

  it('layering: a module importing a module below it', () => {
    expect(pairs(bad, 'layering')).toEqual(['src/modules/tenants/service.ts -> src/modules/rbac/index.ts']);
  });

  it('module-not-layered: a module folder missing from the layering list', () => {
    expect(pairs(bad, 'module-not-layered')).toEqual([
      'src/modules/billing/index.ts -> src/modules/tenants/index.ts',
    ]);
  });

  it('folder cycles: two module folders importing each other through different files', () => {
    expect(bad.folderCycles).toEqual([['rbac', 'tenants']]);
  });

  it('the generated graph draws an import against the layering dotted, and replaces only its markers', () => {
    const graph = mermaid(bad.graph, ['tenants', 'rbac']);
    expect(graph).toContain('rbac --> tenants');
    expect(graph).toContain('tenants -. against layering .-> rbac');
    const doc = 'intro\n<!-- graph:start -->\nold\n<!-- graph:end -->\nrest\n';
    expect(replaceGraph(doc, 'new')).toBe('intro\n<!-- graph:start -->\nnew\n<!-- graph:end -->\nrest\n');
  });
});
