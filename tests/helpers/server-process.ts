/**
 * The real `src/main.ts` in a child process on a loopback port (embedded PGlite in memory and the memory store
 * unless the caller's env says otherwise), for tests of what only a process has: signals, exit codes, stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './private-servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ServerProcess {
  port: number;
  base: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  kill(): void;
}

export async function startServer(
  extraEnv: Record<string, string>,
  opts: { startTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    PGLITE_DIR: 'memory://',
    AUTO_MIGRATE: 'true',
    AUTO_SEED: 'false',
    ARGON2_MEMORY_KIB: '4096',
    ARGON2_TIME_COST: '1',
    ADMIN_CONSOLE_ENABLED: 'false',
  };
  // The embedded backends whatever the suite's pass, unless the caller passes its own.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.SEED_ADMIN_PASSWORD;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // The per-request lines (info level) would push the few lines tests look for out of the window.
  const keep = (chunk: Buffer) => {
    const text = chunk
      .toString()
      .split('\n')
      .filter((l) => !/"msg":"(incoming request|request completed)"/.test(l))
      .join('\n');
    output = (output + text).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const server: ServerProcess = {
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited at startup:\n${output}`);
    const ok = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return server;
    if (Date.now() > deadline) {
      server.kill();
      throw new Error(`server did not start:\n${output}`);
    }
    await sleep(100);
  }
}

/**
 * The seeded tenant's id and admin from a started server's output: the start-up block (src/seed-output.ts,
 * `Organisation: massacorp (tenant id 1)` … `Admin: admin@massacorp.dev`), or null before it is printed.
 */
export function seededFromOutput(output: string): { tenantId: string; email: string } | null {
  const m = /Organisation:\s+\S+ \(tenant id (\d+)\)[\s\S]*?Admin:\s+(\S+)/.exec(output);
  return m ? { tenantId: m[1]!, email: m[2]! } : null;
}

/** `seededFromOutput`, waiting (up to `timeoutMs`) for the block: it is printed just after the server listens. */
export async function seededAdmin(
  output: () => string,
  timeoutMs = 15_000,
): Promise<{ tenantId: string; email: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = seededFromOutput(output());
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no start-up block with the seeded admin in the output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
