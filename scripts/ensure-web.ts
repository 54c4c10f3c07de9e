/**
 * Builds the admin console (web/ → web/dist) when the build is missing or older than its sources, so that
 * `npm install && npm start` on a fresh clone serves a working console at /admin. Run by `prestart`, and by the
 * browser tests before they start. Without Vite installed (a production install with --omit=dev), it says how
 * to build instead of failing: the API itself does not need the console.
 *   tsx scripts/ensure-web.ts          build if stale
 *   tsx scripts/ensure-web.ts --force  always build
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const builtIndex = path.join(web, 'dist', 'index.html');

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** True when web/dist is missing or any source of the console changed after it was built. */
export function webBuildIsStale(): boolean {
  if (!existsSync(builtIndex)) return true;
  const built = statSync(builtIndex).mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'].map((p) =>
    path.join(web, p),
  );
  return Math.max(...sources.map(newestMtime)) > built;
}

export async function ensureWebBuild(opts: { force?: boolean } = {}): Promise<'built' | 'fresh' | 'skipped'> {
  if (!opts.force && !webBuildIsStale()) return 'fresh';
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    console.warn(
      'admin console: web/dist is missing or stale and Vite is not installed (npm install --include=dev, then npm run build:web); /admin answers 503 until then',
    );
    return 'skipped';
  }
  console.log('admin console: building web/ → web/dist …');
  // Always the production React build, even when called from a test runner that set NODE_ENV=test.
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await vite.build({ configFile: path.join(web, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
  return 'built';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureWebBuild({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
