/**
 * The HA topology of deploy/ha/ on loopback, for the failover test: three etcd members, three Patroni nodes running
 * deploy/ha/patroni/patroni.yml as it is (plus a small file of loopback paths), and HAProxy running
 * deploy/ha/haproxy/haproxy.cfg with only its addresses rewritten. Ports are free ones (never 5432), data lives
 * in one temporary directory, and every process runs in its own process group so that destroy() (and a
 * crashed leader) kills all of it, postgres included: Patroni starts postgres in a session of its own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, postgresBinDir } from './private-servers.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEPLOY = path.resolve(import.meta.dirname, '../../deploy/ha');

/** An executable on PATH or in Debian's directories (haproxy is in /usr/sbin, off a non-root PATH), or null. */
function which(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin']) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

const ENGINES = ['patroni', 'patronictl', 'etcd', 'haproxy', 'psql'] as const;

/** What the HA job needs: the names of what is missing. */
export function missingHaEngines(): string[] {
  const missing: string[] = ENGINES.filter((b) => !which(b));
  if (!postgresBinDir()) missing.push('postgresql server binaries');
  return missing;
}

/** The absolute path of an engine (checked by missingHaEngines first). */
function bin(name: (typeof ENGINES)[number]): string {
  const p = which(name);
  if (!p) throw new Error(`${name} not found`);
  return p;
}

const asRoot = process.getuid?.() === 0;

function postgresIds(): { uid: number; gid: number } {
  const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
  if (!m) throw new Error('no postgres OS user to run Patroni as');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

/** Kills a whole process group; quiet when it is already gone. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function killPid(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The pids whose parent is `parent` (from /proc). */
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** A process in a group of its own (detached), its output appended to `log`. */
function daemon(
  cmd: string,
  args: string[],
  log: string,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
  child.unref();
  return child;
}

async function until<T>(what: string, check: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await sleep(200);
  }
}

export interface Member {
  name: string;
  role: string;
  state: string;
  lag?: number | string;
}

export interface PatroniNode {
  name: string;
  pgPort: number;
  apiPort: number;
  confDir: string;
  dataDir: string;
  proc: ChildProcess | null;
}

const SECRETS = {
  superuser: 'ha-test-superuser',
  replication: 'ha-test-replication',
  app: 'ha-test-massacorp',
};

export class HaCluster {
  readonly nodes: PatroniNode[] = [];
  /** The etcd members (a member killed by killEtcdMember is null). */
  private readonly etcds: (ChildProcess | null)[] = [];
  private haproxy: ChildProcess | null = null;
  /** Client ports of the etcd members, in member order. */
  readonly etcdPorts: number[] = [];
  primaryPort = 0;
  replicaPort = 0;

  private constructor(readonly dir: string) {}

  /** The API's DATABASE_URL: HAProxy's leader port, as the owner role post-bootstrap.sh made. */
  get databaseUrl(): string {
    return `postgres://massacorp:${SECRETS.app}@127.0.0.1:${this.primaryPort}/massacorp`;
  }

  /** DATABASE_REPLICA_URL: HAProxy's replicas port. */
  get replicaUrl(): string {
    return `postgres://massacorp:${SECRETS.app}@127.0.0.1:${this.replicaPort}/massacorp`;
  }

  /** `parent`: where to make the cluster's directory (.ci/ha.sh gives one it sweeps afterwards). */
  static async start(parent = process.env.HA_TMPDIR || tmpdir()): Promise<HaCluster> {
    if (!postgresBinDir()) throw new Error('no PostgreSQL server binaries');
    const cluster = new HaCluster(mkdtempSync(path.join(parent, 'massacorp-ha-')));
    try {
      await cluster.startEtcd();
      for (const name of ['pg1', 'pg2', 'pg3']) cluster.nodes.push(await cluster.prepareNode(name));
      // One node first: it initialises the cluster; the others clone it (pg_basebackup) once it leads.
      cluster.startNode(cluster.nodes[0]!);
      await until('pg1 to lead', async () => (await cluster.leader())?.name === 'pg1', 60_000);
      cluster.startNode(cluster.nodes[1]!);
      cluster.startNode(cluster.nodes[2]!);
      await cluster.startHaproxy();
      await cluster.healthy(90_000);
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /**
   * Three etcd members, as deploy/ha/docker-compose.yml runs them: Patroni's leader key survives the loss of any
   * one of them (a quorum of two), which a single member could not show.
   */
  private async startEtcd(): Promise<void> {
    const names = ['etcd1', 'etcd2', 'etcd3'];
    const ports: { client: number; peer: number }[] = [];
    for (const _ of names) ports.push({ client: await freePort(), peer: await freePort() });
    const peerUrl = (i: number) => `http://127.0.0.1:${ports[i]!.peer}`;
    const initial = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
    names.forEach((name, i) => {
      const { client } = ports[i]!;
      this.etcdPorts.push(client);
      this.etcds.push(
        daemon(
          bin('etcd'),
          [
            `--name=${name}`,
            `--data-dir=${path.join(this.dir, name)}`,
            `--listen-client-urls=http://127.0.0.1:${client}`,
            `--advertise-client-urls=http://127.0.0.1:${client}`,
            `--listen-peer-urls=${peerUrl(i)}`,
            `--initial-advertise-peer-urls=${peerUrl(i)}`,
            `--initial-cluster=${initial}`,
            '--initial-cluster-token=massacorp-ha',
            '--initial-cluster-state=new',
          ],
          path.join(this.dir, `${name}.log`),
        ),
      );
    });
    // /health is true once the member sees a leader: all three agree on one.
    for (const client of this.etcdPorts)
      await until('etcd', async () => (await fetch(`http://127.0.0.1:${client}/health`)).ok, 30_000);
  }

  /** The index of an etcd member that is not the raft leader (v3 maintenance status of each member). */
  async etcdFollower(): Promise<number> {
    for (const [i, port] of this.etcdPorts.entries()) {
      const res = await fetch(`http://127.0.0.1:${port}/v3/maintenance/status`, {
        method: 'POST',
        body: '{}',
      });
      const st = (await res.json()) as { leader?: string; header?: { member_id?: string } };
      if (st.leader && st.header?.member_id && st.leader !== st.header.member_id) return i;
    }
    throw new Error('no etcd follower found');
  }

  /** Kills one etcd member (SIGKILL); the other two keep the quorum. */
  killEtcdMember(index: number): void {
    killGroup(this.etcds[index]?.pid);
    this.etcds[index] = null;
  }

  private async prepareNode(name: string): Promise<PatroniNode> {
    const home = path.join(this.dir, name);
    const confDir = path.join(home, 'conf');
    mkdirSync(confDir, { recursive: true });
    const node: PatroniNode = {
      name,
      pgPort: await freePort(),
      apiPort: await freePort(),
      confDir,
      dataDir: path.join(home, 'data'),
      proc: null,
    };
    // Patroni merges the yml files of a directory in name order: the shipped file, then loopback paths only.
    copyFileSync(path.join(DEPLOY, 'patroni/patroni.yml'), path.join(confDir, '00-patroni.yml'));
    writeFileSync(
      path.join(confDir, '10-loopback.yml'),
      [
        'bootstrap:',
        `  post_bootstrap: ${path.join(DEPLOY, 'patroni/post-bootstrap.sh')}`,
        'postgresql:',
        '  parameters:',
        `    unix_socket_directories: ${home}`,
        '',
      ].join('\n'),
    );
    if (asRoot) {
      const { uid, gid } = postgresIds();
      for (const p of [this.dir, home, confDir]) chownSync(p, uid, gid);
    }
    return node;
  }

  private nodeEnv(node: PatroniNode): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATRONI_NAME: node.name,
      PATRONI_RESTAPI_LISTEN: `127.0.0.1:${node.apiPort}`,
      PATRONI_RESTAPI_CONNECT_ADDRESS: `127.0.0.1:${node.apiPort}`,
      PATRONI_POSTGRESQL_LISTEN: `127.0.0.1:${node.pgPort}`,
      PATRONI_POSTGRESQL_CONNECT_ADDRESS: `127.0.0.1:${node.pgPort}`,
      PATRONI_POSTGRESQL_DATA_DIR: node.dataDir,
      PATRONI_POSTGRESQL_BIN_DIR: postgresBinDir() ?? '',
      PATRONI_POSTGRESQL_PGPASS: path.join(path.dirname(node.confDir), 'pgpass'),
      PATRONI_ETCD3_HOSTS: this.etcdPorts.map((p) => `127.0.0.1:${p}`).join(','),
      PATRONI_SUPERUSER_PASSWORD: SECRETS.superuser,
      PATRONI_REPLICATION_PASSWORD: SECRETS.replication,
      MASSACORP_DB_PASSWORD: SECRETS.app,
    };
  }

  /** Starts the node's Patroni (again, after killNode: it rejoins the cluster from its existing data dir). */
  startNode(node: PatroniNode): void {
    const log = path.join(path.dirname(node.confDir), 'patroni.log');
    // postgres refuses to run as root: as root, Patroni (and the postgres it starts) runs as `postgres`.
    node.proc = asRoot
      ? daemon('runuser', ['-u', 'postgres', '--', bin('patroni'), node.confDir], log, this.nodeEnv(node))
      : daemon(bin('patroni'), [node.confDir], log, this.nodeEnv(node));
  }

  private async startHaproxy(): Promise<void> {
    this.primaryPort = await freePort();
    this.replicaPort = await freePort();
    const stats = await freePort();
    let cfg = readFileSync(path.join(DEPLOY, 'haproxy/haproxy.cfg'), 'utf8');
    const swaps: [RegExp, string][] = [
      [/bind \*:5000/g, `bind 127.0.0.1:${this.primaryPort}`],
      [/bind \*:5001/g, `bind 127.0.0.1:${this.replicaPort}`],
      [/bind \*:7000/g, `bind 127.0.0.1:${stats}`],
      ...this.nodes.map((n): [RegExp, string] => [
        new RegExp(`server ${n.name} ${n.name}:5432 check port 8008`, 'g'),
        `server ${n.name} 127.0.0.1:${n.pgPort} check port ${n.apiPort}`,
      ]),
    ];
    for (const [from, to] of swaps) {
      const before = cfg;
      cfg = cfg.replace(from, to);
      // The shipped file changed shape: the test must not silently run something else.
      if (cfg === before) throw new Error(`deploy/ha/haproxy/haproxy.cfg has no line matching ${from}`);
    }
    const file = path.join(this.dir, 'haproxy.cfg');
    writeFileSync(file, cfg);
    // -db: foreground, no daemon (its process group is ours to kill).
    this.haproxy = daemon(bin('haproxy'), ['-db', '-f', file], path.join(this.dir, 'haproxy.log'));
    await sleep(300);
    if (this.haproxy.exitCode !== null)
      throw new Error(`haproxy exited: ${readFileSync(path.join(this.dir, 'haproxy.log'), 'utf8')}`);
  }

  /** Patroni's view of the cluster (GET /cluster on any node that answers). */
  async members(): Promise<Member[]> {
    for (const n of this.nodes) {
      if (!n.proc) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${n.apiPort}/cluster`, {
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok) return ((await res.json()) as { members: Member[] }).members;
      } catch {
        // that node is down: ask the next
      }
    }
    return [];
  }

  async leader(): Promise<PatroniNode | null> {
    const m = (await this.members()).find((x) => x.role === 'leader' && x.state === 'running');
    return this.nodes.find((n) => n.name === m?.name) ?? null;
  }

  async syncStandby(): Promise<PatroniNode | null> {
    const m = (await this.members()).find((x) => x.role === 'sync_standby');
    return this.nodes.find((n) => n.name === m?.name) ?? null;
  }

  /**
   * A leader, a synchronous standby and (with three live nodes) an asynchronous replica, all running and
   * streaming, and HAProxy sending its leader port to the leader.
   */
  async healthy(timeoutMs: number): Promise<void> {
    const live = () => this.nodes.filter((n) => n.proc).length;
    await until(
      `a healthy cluster (${live()} nodes)`,
      async () => {
        const ms = await this.members();
        const running = ms.filter((m) => m.state === 'running' || m.state === 'streaming');
        const roles = running.map((m) => m.role).sort();
        const want = live() === 3 ? ['leader', 'replica', 'sync_standby'] : ['leader', 'sync_standby'];
        if (JSON.stringify(roles) !== JSON.stringify(want)) return false;
        return this.canConnect(this.primaryPort);
      },
      timeoutMs,
    );
  }

  /** A real query through HAProxy's port, as the app's role. */
  private async canConnect(port: number): Promise<boolean> {
    const { stdout } = await run(
      bin('psql'),
      [
        `postgres://massacorp:${SECRETS.app}@127.0.0.1:${port}/massacorp?connect_timeout=2`,
        '-Atc',
        'select pg_is_in_recovery()',
      ],
      { timeout: 5000 },
    );
    return stdout.trim() === 'f';
  }

  /** A URL of one node itself (not through HAProxy), as the app's role. */
  nodeUrl(node: PatroniNode): string {
    return `postgres://massacorp:${SECRETS.app}@127.0.0.1:${node.pgPort}/massacorp`;
  }

  /** A crash of the node: Patroni and its postgres (postmaster and every backend) killed at once. */
  killNode(node: PatroniNode): void {
    const postmaster = this.postmasterPid(node);
    // Every postgres child calls setsid(): the postmaster's group is the postmaster alone, so its children
    // are found by parent pid, before it dies and they are re-parented.
    const children = postmaster ? childrenOf(postmaster) : [];
    killGroup(node.proc?.pid);
    for (const pid of [postmaster, ...children]) killPid(pid);
    node.proc = null;
  }

  /** The node's running postmaster: the pid in postmaster.pid, if that process is a postgres of this data dir. */
  private postmasterPid(node: PatroniNode): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (!(pid > 0)) return undefined;
      // A crashed node leaves its postmaster.pid behind: never signal whatever process took that pid since.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(node.dataDir) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** `patronictl switchover --force` from the leader to `candidate`, as an operator runs it. */
  async switchover(leader: PatroniNode, candidate: PatroniNode): Promise<string> {
    const { stdout, stderr } = await run(
      bin('patronictl'),
      ['-c', leader.confDir, 'switchover', '--leader', leader.name, '--candidate', candidate.name, '--force'],
      { env: this.nodeEnv(leader), timeout: 60_000 },
    );
    return stdout + stderr;
  }

  /** The node's Patroni log (Patroni's and postgres' own lines, pg_rewind's included). */
  nodeLog(node: PatroniNode): string {
    const p = path.join(this.dir, node.name, 'patroni.log');
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  private logFiles(): string[] {
    return [
      'etcd1.log',
      'etcd2.log',
      'etcd3.log',
      'haproxy.log',
      ...this.nodes.map((n) => path.join(n.name, 'patroni.log')),
    ];
  }

  /** The last lines of every log, for a failure message. */
  logs(lines = 30): string {
    return this.logFiles()
      .map((f) => {
        const p = path.join(this.dir, f);
        const text = existsSync(p) ? readFileSync(p, 'utf8').split('\n').slice(-lines).join('\n') : '';
        return `--- ${f}\n${text}`;
      })
      .join('\n');
  }

  /** Kills every process of the cluster (postgres included) and removes its directory. */
  async destroy(): Promise<void> {
    for (const n of this.nodes) this.killNode(n);
    killGroup(this.haproxy?.pid);
    for (const [i, e] of this.etcds.entries()) {
      killGroup(e?.pid);
      this.etcds[i] = null;
    }
    this.haproxy = null;
    await sleep(300);
    // HA_LOG_DIR (.ci/ha.sh sets it): the logs outlive the cluster, to read after a failure.
    const keep = process.env.HA_LOG_DIR;
    if (keep) {
      try {
        mkdirSync(keep, { recursive: true });
        for (const f of this.logFiles()) {
          const from = path.join(this.dir, f);
          if (existsSync(from)) copyFileSync(from, path.join(keep, f.replaceAll('/', '-')));
        }
      } catch (err) {
        console.warn(`HA logs not kept: ${err}`);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
