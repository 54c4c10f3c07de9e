/**
 * Issue 24 item 8, what can be checked without an image build: the Dockerfile and the WireGuard compose file as
 * an operator's engine would read them. (The HEALTHCHECK is also run for real by tests/integration/probes.test.ts.)
 */
import { readFileSync } from 'node:fs';
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
    // What the image needs must not be ignored: the migrations, the sources, the console's sources to build it.
    for (const needed of ['drizzle', 'src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json'])
      expect(dockerignore, needed).not.toContain(needed);
    expect(dockerfile).toMatch(/^COPY drizzle \.\/drizzle$/m);
    expect(dockerfile).toMatch(/^COPY --from=console \/app\/web\/dist \.\/web\/dist$/m);
  });

  it('the WireGuard compose image builds the console and runs as node; only the gateway is root', () => {
    expect(wireguardCompose).toMatch(/RUN npm run build:web/);
    expect(wireguardCompose).toMatch(/COPY --from=console \/app\/web\/dist \.\/web\/dist/);
    expect(wireguardCompose).toMatch(/^\s+USER node$/m);
    const services = wireguardCompose.slice(wireguardCompose.indexOf('\nservices:'));
    const rootUsers = [...services.matchAll(/^ {2}(\w+):[\s\S]*?(?=^ {2}\w+:|^\S)/gm)]
      .filter((m) => /user: "0"/.test(m[0]))
      .map((m) => m[1]);
    expect(rootUsers).toEqual(['gateway']);
  });
});
