/**
 * The admin console's build (see docs/console.md). `npm run build:web` writes web/dist, which the API serves at
 * /admin. The dev server (`npm run dev:web`) proxies the API, so the console can be edited with hot reload
 * against a running `npm start`.
 */
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** First-load budget (gzip): the entry chunk, its static imports and their CSS. */
const FIRST_LOAD_BUDGET = 300 * 1024;

function bundleBudget(): Plugin {
  return {
    name: 'massacorp-bundle-budget',
    apply: 'build',
    writeBundle(_options, bundle) {
      const first = new Set<string>();
      const visit = (name: string) => {
        const item = bundle[name];
        if (!item || first.has(name)) return;
        first.add(name);
        if (item.type === 'chunk') {
          for (const dep of item.imports) visit(dep);
          for (const css of item.viteMetadata?.importedCss ?? []) visit(css);
        }
      };
      for (const [name, item] of Object.entries(bundle))
        if (item.type === 'chunk' && item.isEntry) visit(name);
      let total = 0;
      const rows: string[] = [];
      for (const name of [...first].sort()) {
        const item = bundle[name]!;
        const source = item.type === 'chunk' ? item.code : item.source;
        const gz = gzipSync(typeof source === 'string' ? Buffer.from(source) : Buffer.from(source)).length;
        total += gz;
        rows.push(`  ${name.padEnd(40)} ${(gz / 1024).toFixed(1).padStart(7)} kB gzip`);
      }
      const line = `console first load: ${(total / 1024).toFixed(1)} kB gzip (budget ${FIRST_LOAD_BUDGET / 1024} kB)`;
      console.log(`\n${rows.join('\n')}\n${line}\n`);
      if (total > FIRST_LOAD_BUDGET) this.error(`${line}: over budget`);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  plugins: [react(), bundleBudget()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The strict CSP allows no inline script: no module-preload polyfill snippet, no inlined assets but images.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/admin/config.json': 'http://127.0.0.1:8000',
    },
  },
});
