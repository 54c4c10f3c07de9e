/**
 * Module boundaries as code (issue 11; docs/architecture.md "What may import what"). `npm run lint` runs it with
 * no exceptions listed. Folder-level cycles between modules are checked by scripts/boundaries.ts (dependency-cruiser
 * marks cycles between files only, also when collapsing folders).
 */
const { layers } = require('./scripts/module-layers.json');

const any = (names) => `(${names.map((n) => n.replace(/[-]/g, '\\-')).join('|')})`;

module.exports = {
  forbidden: [
    {
      name: 'module-door',
      comment: 'Another module is reached only through its index.ts (its door), never its files.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'outside-door',
      comment: 'The composition root, main and the CLI reach a module only through its index.ts too.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/modules/', '^src/platform/'] },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'platform-not-modules',
      comment: 'src/platform imports nothing from src/modules: modules fill the AppContext instead.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'pg-internals',
      comment:
        "Only src/platform/db/pg-pipeline.ts reaches into pg's internals (pg/lib/*); its assumptions are pinned by tests/integration/pg-pipeline.test.ts.",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/platform/db/pg-pipeline\\.ts$' },
      to: { path: '^node_modules/pg/lib/', pathNot: '^node_modules/pg/lib/index\\.js$' },
    },
    {
      name: 'no-dev-dependency-at-run-time',
      comment:
        'The image and `npm run start:prod` run dist/ on the production dependencies only (npm ci --omit=dev): src/ imports a devDependency (tsx, vite, …) for its types only.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycle between files (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'module-not-layered',
      comment: 'Every module folder has its place in scripts/module-layers.json.',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/', pathNot: `^src/modules/${any(layers)}/` },
      to: {},
    },
    // One rule per module: it may import modules listed before it, none listed after it.
    ...layers.slice(0, -1).map((name, i) => ({
      name: 'layering',
      comment: `${name} may import only ${i === 0 ? 'no other module' : layers.slice(0, i).join(', ')}; a module below it registers a hook in the AppContext instead.`,
      severity: 'error',
      from: { path: `^src/modules/${any([name])}/` },
      to: { path: `^src/modules/${any(layers.slice(i + 1))}/` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // ESM-only packages (vite, @electric-sql/pglite/contrib/*) export under `import` alone: without these
    // conditions they do not resolve, and a rule on dependency types (npm, npm-dev) would not see them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
