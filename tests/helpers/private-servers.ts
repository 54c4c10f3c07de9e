/**
 * A PostgreSQL cluster and a Redis server that a test starts, stops and restarts itself, on free ports and in
 * temporary directories: outage tests must never touch the shared servers (5432, 6379) other tests use.
 * initdb refuses to run as root, so as root the server commands run as the `postgres` OS user.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The bin directory of the newest installed PostgreSQL with initdb and pg_ctl, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** The redis-server executable on PATH (or the Debian location), or null. */
export function redisServerBin(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    const candidate = path.join(dir, 'redis-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL server binary as the `postgres` OS user when we are root (initdb refuses root). */
function pgCommand(bin: string, args: string[]) {
  return asRoot ? run('runuser', ['-u', 'postgres', '--', bin, ...args]) : run(bin, args);
}

export class PrivatePostgres {
  readonly dir: string;
  readonly dataDir: string;
  private settings: string[] = [];
  private constructor(
    private readonly bin: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'massacorp-pg-'));
    this.dataDir = path.join(this.dir, 'data');
    if (asRoot) {
      const pw = /^postgres:[^:]*:(\d+):(\d+):/m;
      const m = pw.exec(readFileSync('/etc/passwd', 'utf8'));
      if (!m) throw new Error('no postgres OS user to run initdb as');
      chownSync(this.dir, Number(m[1]), Number(m[2]));
      chmodSync(this.dir, 0o700);
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb (trust auth, no fsync: a throwaway cluster) and start; `settings` are extra `-c name=value`. */
  static async create(bin: string, settings: string[] = []): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(bin, await freePort());
    pg.settings = settings;
    await pgCommand(path.join(bin, 'initdb'), [
      '-D',
      pg.dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    await pg.start();
    return pg;
  }

  /** A streaming replica of `primary` (pg_basebackup -R: standby.signal and primary_conninfo), started. */
  static async replicaOf(primary: PrivatePostgres): Promise<PrivatePostgres> {
    const replica = new PrivatePostgres(primary.bin, await freePort());
    await pgCommand(path.join(primary.bin, 'pg_basebackup'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      replica.dataDir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    await replica.start();
    return replica;
  }

  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=60',
      ...this.settings.map((x) => `-c ${x}`),
    ].join(' ');
    await pgCommand(path.join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-o',
      opts,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      '-t',
      '30',
      'start',
    ]);
  }

  /** `pg_ctl -m fast stop`: what a failover or a restart does to the connections in use. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pgCommand(path.join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-m',
      mode,
      '-w',
      '-t',
      '30',
      'stop',
    ]);
  }

  /** The server's log (stderr of the postmaster), e.g. for auto_explain's plans. */
  get logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once the process prints `ready` on stdout; rejects if it exits first or stays silent 15 s. */
function untilLogged(proc: ChildProcess, ready: RegExp, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.resume();
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
}

/** Kills a server outright (a crash: no goodbye to its clients), and waits until it is gone. */
async function killAndWait(proc: ChildProcess | null): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

export class PrivateRedis {
  private proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'massacorp-redis-'));
  private constructor(
    private readonly bin: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `extraArgs` go to redis-server as they are (e.g. `--replicaof 127.0.0.1 <port>`). */
  static async create(bin: string, extraArgs: string[] = []): Promise<PrivateRedis> {
    const r = new PrivateRedis(bin, await freePort());
    r.extraArgs = extraArgs;
    await r.start();
    return r;
  }
  private extraArgs: string[] = [];

  async start(): Promise<void> {
    const proc = spawn(
      this.bin,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--daemonize',
        'no',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    await untilLogged(proc, /Ready to accept connections/, 'redis-server');
  }

  /** Kills the server outright (a crash: no goodbye to the clients), and waits until it is gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    await killAndWait(proc);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Redis Sentinel (redis-server in sentinel mode: Debian's redis-sentinel is that binary) watching one master,
 * with short timings so a test's failover takes about a second. Quorum 1: one sentinel decides alone.
 */
export class PrivateSentinel {
  private proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'massacorp-sentinel-'));
  /** The sentinel's last log lines (its failover steps: +sdown, +odown, +selected-slave, -failover-abort-…). */
  private readonly lines: string[] = [];
  private constructor(readonly port: number) {}

  /** What the sentinel logged last, for a test's failure message. */
  logTail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  static async create(
    bin: string,
    master: { port: number; name: string },
    timings = { downAfterMs: 500, failoverTimeoutMs: 5000 },
  ): Promise<PrivateSentinel> {
    const s = new PrivateSentinel(await freePort());
    const conf = path.join(s.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `sentinel monitor ${master.name} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${master.name} ${timings.downAfterMs}`,
        `sentinel failover-timeout ${master.name} ${timings.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${master.name} 1`,
        '',
      ].join('\n'),
    );
    const proc = spawn(
      bin,
      [conf, '--sentinel', '--port', String(s.port), '--bind', '127.0.0.1', '--dir', s.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    s.proc = proc;
    let partial = '';
    proc.stdout?.on('data', (d: Buffer) => {
      const text = partial + d.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      s.lines.push(...parts);
      if (s.lines.length > 400) s.lines.splice(0, s.lines.length - 400);
    });
    await untilLogged(proc, /\+monitor master/, 'sentinel');
    return s;
  }

  /** SIGSTOP: the kernel still accepts connections on its port, and nothing answers on them. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    proc?.kill('SIGCONT'); // a paused process would not act on SIGTERM
    await killAndWait(proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
