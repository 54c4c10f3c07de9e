/**
 * Doors expose what others use (issue 23 item 6). A module's `index.ts` is the only way in; an export there that
 * no code outside the module imports is surface without a consumer (it invites the next module to reach for an
 * internal), and a drizzle table exported through a door lets another module write SQL on tables it does not own.
 *
 * Consumers are the files under `src/` outside the module (tests are not: they may import a module's internals
 * directly, as unit tests of those internals do). The module object itself (`xModule`, the one value `app.ts`
 * lists) counts as used when anything imports it. Parsing is syntactic (TypeScript's parser, no type check), so
 * the check takes well under a second.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface DoorExport {
  module: string;
  name: string;
  /** The file the name comes from, relative to the root (the index itself for a local declaration). */
  origin: string;
}

export interface DoorReport {
  /** Door exports that no file outside their module imports. */
  unused: DoorExport[];
  /** Door exports whose value is a drizzle table (`pgTable(...)` in its origin file). */
  tables: DoorExport[];
  /** How many door exports there are in all. */
  total: number;
}

const MODULE_INDEX = /^src\/modules\/([^/]+)\/index\.ts$/;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
}

/** `./x.js` from `dir` → the `.ts` file it names, relative to root (null for packages). */
function resolveSpecifier(root: string, fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const abs = path.resolve(path.dirname(fromFile), specifier).replace(/\.js$/, '.ts');
  return path.relative(root, abs).split(path.sep).join('/');
}

/** The names a door exports, with the file each comes from. */
function doorExports(root: string, indexFile: string, module: string): DoorExport[] {
  const sf = parse(indexFile);
  const rel = path.relative(root, indexFile).split(path.sep).join('/');
  const out: DoorExport[] = [];
  const exported = (node: ts.Node) =>
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      const from = st.moduleSpecifier
        ? resolveSpecifier(root, indexFile, (st.moduleSpecifier as ts.StringLiteral).text)
        : rel;
      for (const el of st.exportClause.elements)
        out.push({ module, name: el.name.text, origin: from ?? rel });
    } else if (ts.isVariableStatement(st) && exported(st)) {
      for (const d of st.declarationList.declarations)
        if (ts.isIdentifier(d.name)) out.push({ module, name: d.name.text, origin: rel });
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st)) &&
      exported(st) &&
      st.name
    ) {
      out.push({ module, name: st.name.text, origin: rel });
    }
  }
  return out;
}

/** Names each file imports (or re-exports) from each door, keyed `module:name`; `module:*` for a namespace. */
function doorImports(root: string, files: string[]): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  const note = (module: string, name: string, importer: string) => {
    const key = `${module}:${name}`;
    if (!used.has(key)) used.set(key, new Set());
    used.get(key)!.add(importer);
  };
  for (const file of files) {
    const importer = path.relative(root, file).split(path.sep).join('/');
    const sf = parse(file);
    for (const st of sf.statements) {
      const spec =
        (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier
          ? (st.moduleSpecifier as ts.StringLiteral).text
          : null;
      if (!spec) continue;
      const target = resolveSpecifier(root, file, spec);
      const module = target ? MODULE_INDEX.exec(target)?.[1] : undefined;
      if (!module || importer.startsWith(`src/modules/${module}/`)) continue;
      if (ts.isImportDeclaration(st)) {
        const clause = st.importClause;
        if (!clause) continue;
        if (clause.name) note(module, 'default', importer);
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) note(module, '*', importer);
        else if (bindings)
          for (const el of bindings.elements) note(module, (el.propertyName ?? el.name).text, importer);
      } else if (ts.isExportDeclaration(st)) {
        if (!st.exportClause) note(module, '*', importer);
        else if (ts.isNamedExports(st.exportClause))
          for (const el of st.exportClause.elements)
            note(module, (el.propertyName ?? el.name).text, importer);
      }
    }
  }
  return used;
}

function isTable(root: string, e: DoorExport): boolean {
  let text: string;
  try {
    text = readFileSync(path.join(root, e.origin), 'utf8');
  } catch {
    return false;
  }
  return new RegExp(`export const ${e.name}\\s*=\\s*pgTable\\(`).test(text);
}

export function doorReport(root: string): DoorReport {
  const modulesDir = path.join(root, 'src/modules');
  const files = filesUnder(path.join(root, 'src'));
  const used = doorImports(root, files);
  const report: DoorReport = { unused: [], tables: [], total: 0 };
  for (const module of readdirSync(modulesDir)) {
    const index = path.join(modulesDir, module, 'index.ts');
    try {
      if (!statSync(index).isFile()) continue;
    } catch {
      continue;
    }
    for (const e of doorExports(root, index, module)) {
      report.total++;
      if (isTable(root, e)) report.tables.push(e);
      if (!used.has(`${module}:${e.name}`) && !used.has(`${module}:*`)) report.unused.push(e);
    }
  }
  return report;
}
