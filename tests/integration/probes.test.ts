/**
 * Issue 24 item 7: the probes shipped in deploy/ and the Dockerfile work out of the box against a
 * prod-configured instance (ENV=prod, its secrets, WG_ENFORCE on, PostgreSQL and Redis), probing from
 * 127.0.0.1 as a kubelet on the node or a container engine inside the container does. The probe definitions
 * are read from the files themselves, so a manifest pointing at a wrong path fails here.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { usingPostgres, usingRedis } from '../helpers/app.js';
import { freePort } from '../helpers/private-servers.js';

const run = promisify(execFile);
let app: FastifyInstance | null = null;
afterAll(async () => {
  await app?.close();
});

/** `<kind>Probe: ... httpGet: { path: /x, port: http }` of deploy/k8s/api.yaml. */
function k8sProbePath(kind: 'readiness' | 'liveness'): string {
  const yaml = readFileSync('deploy/k8s/api.yaml', 'utf8');
  const m = new RegExp(
    `${kind}Probe:\\s*\\n\\s*httpGet:\\s*\\{\\s*path:\\s*(\\S+?),\\s*port:\\s*http\\s*\\}`,
  ).exec(yaml);
  if (!m) throw new Error(`no ${kind}Probe httpGet in deploy/k8s/api.yaml`);
  return m[1]!;
}

describe.skipIf(!usingPostgres || !usingRedis)('probes against ENV=prod (issue 24 item 7)', () => {
  it("the manifests' probes (Kubernetes readiness and liveness, the compose healthcheck, the image's HEALTHCHECK) succeed from 127.0.0.1 with WG_ENFORCE on, while the rest of the API stays closed outside the tunnel", async () => {
    const port = await freePort();
    const config = loadConfig(
      {
        ENV: 'prod',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: process.env.DATABASE_URL,
        REDIS_URL: process.env.REDIS_URL,
        STORE_PREFIX: `mc-probes-${randomBytes(4).toString('hex')}:`,
        JWT_SECRET: randomBytes(32).toString('hex'),
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        METRICS_TOKEN: randomBytes(32).toString('hex'),
        WG_ENFORCE: 'true',
        WG_NETWORK: '10.10.0.0/24',
        LOG_LEVEL: 'warn',
        // A busy test machine must not shed the probe under test; shedding has its own tests (overload.test.ts).
        LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
        ADMIN_CONSOLE_ENABLED: 'false',
      },
      { persistSecrets: false },
    );
    expect(config.wgEnforce).toBe(true);
    expect(config.autoMigrate).toBe(false);
    // What the migrate Job / compose `migrate` service does before the API starts.
    app = await buildApp(config, { migrate: true });
    await app.listen({ host: '127.0.0.1', port });
    const base = `http://127.0.0.1:${port}`;

    // Kubernetes: httpGet from the kubelet; any status 200-399 passes.
    for (const kind of ['readiness', 'liveness'] as const) {
      const probePath = k8sProbePath(kind);
      const res = await fetch(`${base}${probePath}`, { redirect: 'manual' });
      expect(res.status, `${kind}Probe ${probePath}: ${await res.clone().text()}`).toBeGreaterThanOrEqual(
        200,
      );
      expect(res.status, `${kind}Probe ${probePath}`).toBeLessThan(400);
    }
    expect(k8sProbePath('readiness')).toBe('/ready');
    // The readiness body from outside the tunnel: statuses only.
    const ready = await (await fetch(`${base}/ready`)).json();
    expect(ready).toEqual({
      status: 'ok',
      checks: {
        database: { status: 'ok' },
        migrations: { status: 'ok' },
        signing_keys: { status: 'ok' },
        redis: { status: 'ok' },
      },
    });

    // The WireGuard compose file's healthcheck, run as written (its PORT is 8000; ours is free).
    const compose = readFileSync('deploy/docker-compose.wireguard.yml', 'utf8');
    const hc = /test:\s*\[([^\]]*curl[^\]]*)\]/.exec(compose);
    expect(hc, 'a curl healthcheck in docker-compose.wireguard.yml').not.toBeNull();
    const argv = JSON.parse(`[${hc![1]}]`) as string[];
    expect(argv[0]).toBe('CMD');
    const [bin, ...args] = argv.slice(1).map((a) => a.replace('127.0.0.1:8000', `127.0.0.1:${port}`));
    await run(bin!, args, { timeout: 10_000 });

    // The image's HEALTHCHECK, run by a shell with the container's PORT, as the engine runs it.
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const cmd = /^HEALTHCHECK .*?CMD (.+)$/m.exec(dockerfile)?.[1];
    expect(cmd, 'a HEALTHCHECK in the Dockerfile').toBeTruthy();
    await run('sh', ['-c', cmd!], { env: { ...process.env, PORT: String(port) }, timeout: 10_000 });

    // The guard is really on: everything else is closed to 127.0.0.1.
    for (const url of ['/', '/api/v1/info', '/openapi.json']) {
      const res = await fetch(`${base}${url}`);
      expect(res.status, url).toBe(403);
    }
  }, 120_000);
});
