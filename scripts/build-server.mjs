#!/usr/bin/env node
/**
 * The server's build: src/ → dist/ with tsc (tsconfig.build.json). Plain JavaScript, not TypeScript run by tsx:
 * npm runs `prepare` in production installs too (`npm ci --omit=dev`), where tsx is not installed.
 *
 *   node scripts/build-server.mjs            `npm run build`: empty dist/, then tsc with its type check; any error
 *                                            fails the build.
 *   node scripts/build-server.mjs --prepare  npm's `prepare`: every `npm install` / `npm ci` in a clone, and the
 *                                            first `npx massacorp` (npm installs the project into its npx cache as a
 *                                            link and runs `prepare` before linking the bin). Builds dist/ when it
 *                                            is missing or older than src/, so that `npx massacorp` has the
 *                                            dist/cli.js that package.json's `bin` names on a fresh clone. Emit only
 *                                            (--noCheck: types are `npm run typecheck`'s job), and it never fails
 *                                            the install: without sources or without TypeScript (a Docker layer
 *                                            before the sources are copied, a production install) it does nothing,
 *                                            and a failed build is a warning, since `npm start` does not need dist/.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const entries = ['main.js', 'cli.js'].map((f) => path.join(dist, f));
const prepare = process.argv.includes('--prepare');

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** dist/ has both entry points, written after the last change to the sources and the compiler settings. */
function distIsFresh() {
  if (!entries.every((f) => existsSync(f))) return false;
  const built = Math.min(...entries.map((f) => statSync(f).mtimeMs));
  const sources = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((p) => newestMtime(path.join(root, p)));
  return Math.max(...sources) <= built;
}

function tscPath() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

function build(tsc, extraArgs) {
  rmSync(dist, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), ...extraArgs], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.error) console.error(r.error.message);
  if (!entries.every((f) => existsSync(f))) return false;
  // package.json's bin: tsc writes 0644, and npm makes a bin executable only when it links it (npx links once
  // into its cache and keeps that link), so a rebuilt dist/cli.js would answer "Permission denied".
  chmodSync(path.join(dist, 'cli.js'), 0o755);
  return r.status === 0;
}

if (!prepare) {
  const tsc = tscPath();
  if (!tsc) {
    console.error('build: TypeScript is not installed (npm install, with the dev dependencies)');
    process.exit(1);
  }
  process.exit(build(tsc, []) ? 0 : 1);
}

if (!existsSync(path.join(root, 'src', 'cli.ts')) || !existsSync(path.join(root, 'tsconfig.build.json'))) {
  process.exit(0);
}
if (distIsFresh()) process.exit(0);
const tsc = tscPath();
if (!tsc) {
  console.log('massacorp: dist/ not built (a production install: no TypeScript); `npm run build` makes it');
  process.exit(0);
}
console.log('massacorp: building dist/ (tsc) for `npx massacorp` and `npm run start:prod` …');
if (!build(tsc, ['--noCheck'])) {
  console.warn(
    'massacorp: warning: the build of dist/ failed (see above); `npm start` works without it, `npx massacorp` ' +
      'and `npm run start:prod` need it: run `npm run build` once fixed',
  );
}
