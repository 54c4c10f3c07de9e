/**
 * Issue 24 item 8, what can be checked without an image build: the Dockerfile and the WireGuard compose file as
 * an operator's engine would read them. (The HEALTHCHECK is also run for real by tests/integration/probes.test.ts,
 * and the image itself by .ci/image.sh.) Issue 20: the images run the built JavaScript on the production
 * dependencies, and every deploy manifest runs the built CLI.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const wireguardCompose = readFileSync('deploy/docker-compose.wireguard.yml', 'utf8');
const dockerignore = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** RUN instructions, continuation lines joined. */
function runs(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('RUN '));
}

describe('image hygiene (issue 24 item 8)', () => {
  it('every npm ci cleans the npm cache in the same layer, and nothing installs without the lockfile', () => {
    for (const [name, text] of [
      ['Dockerfile', dockerfile],
      ['docker-compose.wireguard.yml', wireguardCompose],
    ] as const) {
      const installs = runs(text).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
      expect(installs.length, name).toBeGreaterThan(0);
      for (const r of installs) {
        expect(r, name).toMatch(/\bnpm ci\b/);
        expect(r, name).not.toMatch(/\bnpm (install|i)\b/);
        expect(r, name).toMatch(/npm ci [^&|;]*&& npm cache clean --force/);
      }
      expect(text, name).not.toMatch(/package-lock\.json\*/);
    }
  });

  it('the HEALTHCHECK probes $PORT, not a fixed port', () => {
    const hc = /^HEALTHCHECK .*$/m.exec(dockerfile)?.[0] ?? '';
    expect(hc).toMatch(/\$\{?PORT/);
    expect(hc).not.toMatch(/127\.0\.0\.1:8000/);
  });

  it('.dockerignore matches at any depth and keeps what the runtime does not read out of the build', () => {
    for (const p of ['**/node_modules', '**/data', '**/dist', '.git', '.ci', 'tests', 'bench', 'docs'])
      expect(dockerignore, p).toContain(p);
    // What the build needs must not be ignored: the migrations, the sources, the console's sources, the settings.
    for (const needed of [
      'drizzle',
      'src',
      'web',
      'scripts',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ])
      expect(dockerignore, needed).not.toContain(needed);
    expect(dockerfile).toMatch(/^COPY drizzle \.\/drizzle$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/web\/dist \.\/web\/dist$/m);
  });

  it('both images build dist/ in a stage of their own and run it on the production dependencies', () => {
    for (const [name, text] of [
      ['Dockerfile', dockerfile],
      ['docker-compose.wireguard.yml', wireguardCompose],
    ] as const) {
      const [build = '', runtime = ''] = text.split(/^\s*FROM .*$/m).slice(1);
      expect(build, name).toMatch(/^\s*RUN npm run build$/m);
      expect(runtime, name).toMatch(/^\s*RUN npm ci --omit=dev /m);
      expect(runtime, name).toMatch(/^\s*COPY --from=build \/app\/dist \.\/dist$/m);
      // No sources and no TypeScript settings at run time: nothing there could run them.
      expect(runtime, name).not.toMatch(/^\s*COPY (src|tsconfig)/m);
    }
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
  });

  it('no production dependency has an install script (the runtime stage installs with --ignore-scripts)', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const scripted = Object.entries(lock.packages)
      .filter(([name, p]) => name && !p.dev && p.hasInstallScript)
      .map(([name]) => name);
    expect(scripted).toEqual([]);
    // The tools that run TypeScript are dev dependencies: dist/ needs none of them (lint's
    // no-dev-dependency-at-run-time rule keeps src/ from importing one).
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const tool of ['tsx', 'typescript', 'vite']) {
      expect(pkg.dependencies, tool).not.toHaveProperty(tool);
      expect(pkg.devDependencies, tool).toHaveProperty(tool);
    }
  });

  it('the deploy manifests run the built CLI: no tsx, no npm script (the image has neither tsx nor sources)', () => {
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir).flatMap((f) => {
        const p = path.join(dir, f);
        return statSync(p).isDirectory() ? walk(p) : /\.(ya?ml|md)$/.test(f) ? [p] : [];
      });
    })('deploy');
    expect(files.length).toBeGreaterThan(3);
    const runsSources = /\btsx\b|src\/(cli|main)\.ts|npm run (db:migrate|cli|start)\b/;
    for (const f of files) {
      // A manifest whole; in a README, the commands given to run in a container (the prose may explain why not).
      const lines = readFileSync(f, 'utf8').split('\n');
      const commands = f.endsWith('.md')
        ? lines.filter((l) => /^\s*(docker compose|kubectl) /.test(l))
        : lines;
      for (const line of commands) expect(line, f).not.toMatch(runsSources);
    }
    const job = readFileSync('deploy/k8s/migrate-job.yaml', 'utf8');
    expect(job).toMatch(/command: \["node", "dist\/cli\.js", "migrate"\]/);
  });

  it('the WireGuard compose image builds the server and the console and runs as node; only the gateway is root', () => {
    expect(wireguardCompose).toMatch(/COPY --from=build \/app\/web\/dist \.\/web\/dist/);
    expect(wireguardCompose).toMatch(/^\s+USER node$/m);
    const services = wireguardCompose.slice(wireguardCompose.indexOf('\nservices:'));
    const rootUsers = [...services.matchAll(/^ {2}(\w+):[\s\S]*?(?=^ {2}\w+:|^\S)/gm)]
      .filter((m) => /user: "0"/.test(m[0]))
      .map((m) => m[1]);
    expect(rootUsers).toEqual(['gateway']);
  });
});
