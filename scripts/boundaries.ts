/**
 * Module boundaries, the part dependency-cruiser's rules do not cover, and the generated module graph.
 *   tsx scripts/boundaries.ts check   no cycle between module folders (exit 1 on any); run by `npm run lint`
 *   tsx scripts/boundaries.ts graph   rewrites the graph in docs/architecture.md between its markers
 * dependency-cruiser marks cycles between files only: with `--collapse` it still flags a folder edge as circular
 * only when the file-level edge was, so auth → tenants → auth through different files went unreported. Here the
 * folder graph is built from the cruise and its strongly connected components are the cycles.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { doorReport } from './door-exports.js';

const MODULE = /^src\/modules\/([^/]+)\//;

export interface Violation {
  rule: string;
  from: string;
  to: string;
}

export interface Boundaries {
  /** What the rules of the dependency-cruiser config report (file level). */
  violations: Violation[];
  /** module folder → module folders it imports, each edge with one importing file → imported file as example. */
  graph: Map<string, Map<string, { from: string; to: string }>>;
  /** Each set of module folders that import each other, directly or not (sorted; empty when none). */
  folderCycles: string[][];
}

/** Cruises `dirs` under `root` with the dependency-cruiser config and tsconfig found there. */
export async function cruiseBoundaries(root: string, dirs: string[] = ['src']): Promise<Boundaries> {
  const cwd = process.cwd();
  // dependency-cruiser resolves paths against the working directory.
  process.chdir(root);
  try {
    const options = await extractDepcruiseOptions(path.join(root, '.dependency-cruiser.cjs'));
    const tsConfig = extractTSConfig(path.join(root, 'tsconfig.json'));
    const { output } = await cruise(dirs, { ...options, validate: true }, {}, { tsConfig });
    return analyse(output as ICruiseResult);
  } finally {
    process.chdir(cwd);
  }
}

function analyse(result: ICruiseResult): Boundaries {
  const violations = (result.summary.violations ?? []).map((v) => ({
    rule: v.rule.name,
    from: v.from,
    to: v.to,
  }));
  const graph: Boundaries['graph'] = new Map();
  for (const m of result.modules) {
    const from = MODULE.exec(m.source)?.[1];
    if (!from) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    for (const d of m.dependencies) {
      const to = MODULE.exec(d.resolved)?.[1];
      if (!to || to === from) continue;
      const edges = graph.get(from)!;
      if (!edges.has(to)) edges.set(to, { from: m.source, to: d.resolved });
    }
  }
  return { violations, graph, folderCycles: stronglyConnected(graph) };
}

/** Tarjan: the components of more than one folder are the cycles. */
function stronglyConnected(graph: Boundaries['graph']): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!order.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The module graph as a Mermaid flowchart, modules in layering order; edges against the layering are dotted. */
export function mermaid(graph: Boundaries['graph'], layers: readonly string[]): string {
  const rank = (m: string) => {
    const i = layers.indexOf(m);
    return i === -1 ? layers.length : i;
  };
  const names = [...new Set([...graph.keys(), ...[...graph.values()].flatMap((e) => [...e.keys()])])].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  const id = (m: string) => m.replace(/[^A-Za-z0-9]/g, '_');
  const lines = ['```mermaid', 'flowchart BT'];
  for (const m of names) lines.push(`  ${id(m)}["${m}"]`);
  for (const from of names) {
    const targets = [...(graph.get(from)?.keys() ?? [])].sort(
      (a, b) => rank(a) - rank(b) || a.localeCompare(b),
    );
    for (const to of targets)
      lines.push(
        rank(to) < rank(from)
          ? `  ${id(from)} --> ${id(to)}`
          : `  ${id(from)} -. against layering .-> ${id(to)}`,
      );
  }
  lines.push('```');
  return lines.join('\n');
}

/** Something module-specific written in platform/ source (outside comments). */
export interface PlatformLeak {
  file: string;
  line: number;
  what: string;
}

/**
 * Issue 23: the platform knows no module. Module-specific strings in platform/ code (comments aside): the API
 * key prefix, a module's URL (/api/v1/<something> other than the platform's own /api/v1/info, /scim), an API
 * key error code, and SQL naming a table a module declares (its tables.ts). A module hands the platform what it
 * must know through its AppModule (providers, noStorePrefixes, mfaEnrolmentPrefixes, secretPatterns).
 */
export function platformLeaks(root: string): PlatformLeak[] {
  const moduleTables = new Set<string>();
  const platformTables = new Set<string>();
  const tableDecl = /pgTable\(\s*'([a-z_]+)'/g;
  for (const file of sourceFiles(path.join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const into = file.includes(`${path.sep}modules${path.sep}`) ? moduleTables : platformTables;
    for (const m of text.matchAll(tableDecl)) into.add(m[1]!);
  }
  for (const t of platformTables) moduleTables.delete(t);
  const rules: { what: string; re: RegExp }[] = [
    { what: 'the API key prefix', re: /mc_sk_/ },
    { what: "a module's URL", re: /\/api\/v1\/(?!info\b)[a-z]|\/scim\b/ },
    { what: "the API keys module's error codes", re: /\bAPI_KEY_[A-Z_]+/ },
  ];
  if (moduleTables.size > 0)
    rules.push({
      what: "SQL on a module's table",
      re: new RegExp(`\\b(?:from|join|into|update|table)\\s+(?:${[...moduleTables].join('|')})\\b`, 'i'),
    });
  const leaks: PlatformLeak[] = [];
  for (const file of sourceFiles(path.join(root, 'src/platform'))) {
    const lines = withoutComments(readFileSync(file, 'utf8')).split('\n');
    lines.forEach((text, i) => {
      for (const r of rules)
        if (r.re.test(text)) leaks.push({ file: path.relative(root, file), line: i + 1, what: r.what });
    });
  }
  return leaks;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The source with its comments blanked (newlines kept, so line numbers hold), strings and templates left. */
function withoutComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | null = null;
  while (i < text.length) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === quote) quote = null;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
      i++;
    }
  }
  return out;
}

export const GRAPH_START = '<!-- graph:start -->';
export const GRAPH_END = '<!-- graph:end -->';

/** `doc` with the text between the graph markers replaced. */
export function replaceGraph(doc: string, graphText: string): string {
  const start = doc.indexOf(GRAPH_START);
  const end = doc.indexOf(GRAPH_END);
  if (start === -1 || end < start)
    throw new Error(`docs/architecture.md lacks ${GRAPH_START} … ${GRAPH_END}`);
  return `${doc.slice(0, start + GRAPH_START.length)}\n${graphText}\n${doc.slice(end)}`;
}

async function main(command: string | undefined): Promise<number> {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const { layers } = createRequire(import.meta.url)('./module-layers.json') as { layers: string[] };
  const b = await cruiseBoundaries(root);
  if (command === 'check') {
    for (const cycle of b.folderCycles) {
      console.error(`  error no-module-cycle: ${cycle.join(' ⇄ ')}`);
      for (const m of cycle)
        for (const [to, e] of b.graph.get(m) ?? [])
          if (cycle.includes(to)) console.error(`      ${m} → ${to} (${e.from} → ${e.to})`);
    }
    const leaks = platformLeaks(root);
    for (const l of leaks)
      console.error(`  error platform-knows-no-module: ${l.file}:${l.line} names ${l.what}`);
    const doors = doorReport(root);
    for (const e of doors.unused)
      console.error(
        `  error door-export-unused: src/modules/${e.module}/index.ts exports ${e.name} (from ${e.origin}), which no file outside the module imports`,
      );
    for (const e of doors.tables)
      console.error(
        `  error door-exports-table: src/modules/${e.module}/index.ts exports the table ${e.name}: other modules go through its functions`,
      );
    if (b.folderCycles.length > 0)
      console.error(`\nx ${b.folderCycles.length} cycle(s) between module folders.`);
    if (leaks.length > 0) console.error(`\nx ${leaks.length} module-specific string(s) in platform/.`);
    const doorErrors = doors.unused.length + doors.tables.length;
    if (doorErrors > 0)
      console.error(`\nx ${doorErrors} door export(s) without a consumer or naming a table.`);
    if (b.folderCycles.length > 0 || leaks.length > 0 || doorErrors > 0) return 1;
    console.log('✔ no cycle between module folders');
    console.log('✔ no module-specific string in platform/');
    console.log(
      `✔ every door export has a consumer outside its module, and no door exports a table (${doors.total} exports)`,
    );
    return 0;
  }
  if (command === 'graph') {
    const file = path.join(root, 'docs/architecture.md');
    writeFileSync(file, replaceGraph(readFileSync(file, 'utf8'), mermaid(b.graph, layers)));
    console.log(`module graph written to docs/architecture.md (${b.graph.size} modules)`);
    return 0;
  }
  console.error('usage: tsx scripts/boundaries.ts check|graph');
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main(process.argv[2]).then((code) => process.exit(code));
}
