/**
 * scripts/build-server.mjs, npm's `prepare` (issue 20): on a fresh clone `npm install` builds dist/ so that
 * `npx massacorp` has its bin, and no install fails or slows down because of it where it cannot or need not build.
 * Each case runs the real script in a scratch project whose `typescript` is a stand-in tsc (the real build is
 * .ci/run's `npm run build` and .ci/dist-smoke.sh): what is checked is when it builds, and what a failure does.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A project with the script, and optionally its sources and a stand-in tsc that builds or fails. */
function project(opts: { sources?: boolean; tsc?: 'builds' | 'fails' }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'massacorp-prepare-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'scripts'));
  copyFileSync('scripts/build-server.mjs', path.join(root, 'scripts', 'build-server.mjs'));
  writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
  if (opts.sources) {
    mkdirSync(path.join(root, 'src'));
    writeFileSync(path.join(root, 'src', 'cli.ts'), 'export {};\n');
    writeFileSync(path.join(root, 'tsconfig.json'), '{}');
    writeFileSync(path.join(root, 'tsconfig.build.json'), '{}');
  }
  if (opts.tsc) {
    const bin = path.join(root, 'node_modules', 'typescript', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      path.join(root, 'node_modules', 'typescript', 'package.json'),
      '{"name":"typescript","version":"0.0.0"}',
    );
    // Records its arguments; "builds" writes both entry points as tsc would, "fails" writes nothing.
    writeFileSync(
      path.join(bin, 'tsc'),
      opts.tsc === 'builds'
        ? `const fs = require('node:fs');
           fs.writeFileSync('tsc-args', JSON.stringify(process.argv.slice(2)));
           fs.mkdirSync('dist', { recursive: true });
           fs.writeFileSync('dist/main.js', ''); fs.writeFileSync('dist/cli.js', '');`
        : `console.error('error TS5083: Cannot read file'); process.exit(1);`,
    );
    writeFileSync(path.join(bin, 'package.json'), '{"type":"commonjs"}');
  }
  return root;
}

function run(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['scripts/build-server.mjs', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('scripts/build-server.mjs --prepare (npm install)', () => {
  it('without sources (a Docker layer before they are copied) does nothing, silently', () => {
    const root = project({ tsc: 'builds' });
    expect(run(root, '--prepare')).toEqual({ code: 0, out: '' });
    expect(existsSync(path.join(root, 'dist'))).toBe(false);
  });

  it('without TypeScript (a production install) says so and succeeds', () => {
    const root = project({ sources: true });
    const r = run(root, '--prepare');
    expect(r.code).toBe(0);
    expect(r.out).toContain('dist/ not built (a production install: no TypeScript)');
  });

  it('builds a missing dist/, emit only, then leaves a fresh one alone until a source changes', () => {
    const root = project({ sources: true, tsc: 'builds' });
    const first = run(root, '--prepare');
    expect(first.code).toBe(0);
    expect(first.out).toContain('building dist/');
    // The bin is executable (npx's cached link to it stays across rebuilds, and tsc writes 0644).
    expect(statSync(path.join(root, 'dist', 'cli.js')).mode & 0o111).toBe(0o111);
    expect(JSON.parse(readFileSync(path.join(root, 'tsc-args'), 'utf8'))).toContain('--noCheck');

    rmSync(path.join(root, 'tsc-args'));
    expect(run(root, '--prepare')).toEqual({ code: 0, out: '' });
    expect(existsSync(path.join(root, 'tsc-args'))).toBe(false);

    // A source written after the build: dist/ is stale and is built again.
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(root, 'src', 'cli.ts'), later, later);
    expect(run(root, '--prepare').out).toContain('building dist/');
    expect(existsSync(path.join(root, 'tsc-args'))).toBe(true);
  });

  it('a failed build is a warning and the install goes on; `npm run build` fails on it', () => {
    const root = project({ sources: true, tsc: 'fails' });
    const r = run(root, '--prepare');
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning: the build of dist/ failed');
    const build = run(root);
    expect(build.code).toBe(1);
    expect(build.out).toContain('error TS5083');
  });
});
