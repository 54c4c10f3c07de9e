/**
 * One process per embedded database directory. PGlite is a PostgreSQL inside the process over the files of its
 * directory: two processes on one directory (the server and `massacorp user create`) are two PostgreSQL instances
 * over the same files, each unaware of the other; both report success and one's writes are lost (the CLI's user
 * was gone after the server restarted), or the files damaged. So opening a directory-backed PGlite takes
 * `<dir>.lock` first, and a second process fails at once, before PGlite touches the directory, with a message
 * naming the process that holds it. An in-memory PGlite (`memory://`, the tests) takes no lock: nothing is shared.
 *
 * The lock file is created with O_EXCL (`wx`), so of two processes starting together exactly one gets it. It
 * records who holds it: pid, host, command words, and on Linux the kernel's boot id, the pid namespace and the
 * process's start time. A lock left by a process that died (kill -9, OOM, power loss) must not block the next
 * start; it is stale when:
 * - the holder is in our pid namespace on this boot (the pid means the same process to us): its pid is not alive,
 *   or is alive with another start time (the pid was reused by an unrelated process);
 * - no /proc (macOS): its pid on this host is not alive;
 * - same host, another boot id: the machine restarted since;
 * - otherwise (another container sharing the volume, another pid namespace, another host), its pid is not ours to
 *   check: the holder touches the file every HEARTBEAT_MS, and a lock untouched for STALE_AFTER_MS is stale.
 * A stale lock is taken over by renaming it aside and checking that what was renamed is the file judged stale
 * (same inode), then creating ours with O_EXCL again: two processes taking over at once still end with one holder.
 * The lock is released (the file removed, if it is still ours) when the database is closed, and at process exit.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How often the holder touches its lock (what a process that cannot check its pid goes by). */
export const HEARTBEAT_MS = 5_000;
/** A lock whose holder cannot be checked by pid is stale once untouched this long (several missed heartbeats). */
export const STALE_AFTER_MS = 30_000;

export interface LockHolder {
  pid: number;
  hostname: string;
  /** The program and its command words (`cli.ts user create`), never option values: they may be passwords. */
  command: string;
  /** Linux: /proc/sys/kernel/random/boot_id. Null elsewhere. */
  boot_id: string | null;
  /** Linux: the pid namespace (`pid:[4026531836]`): a pid is meaningful only inside its namespace. */
  pid_ns: string | null;
  /** Linux: the process start time in clock ticks after boot (/proc/<pid>/stat field 22): tells a reused pid. */
  start_ticks: string | null;
  acquired_at: string;
  /** Tells our lock from one another process made after taking ours over. */
  token: string;
}

export class DatabaseLockedError extends Error {
  constructor(
    message: string,
    readonly lockPath: string,
    readonly holder: LockHolder | null,
  ) {
    super(message);
    this.name = 'DatabaseLockedError';
  }
}

export interface PgliteLock {
  readonly path: string;
  release(): void;
}

const readOrNull = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat; the fields are counted after the command name, which may hold spaces. */
function startTicks(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function commandWords(): string {
  const [, script, ...args] = process.argv;
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') || words.length >= 3) break;
    words.push(a);
  }
  return [path.basename(script ?? process.argv0), ...words].join(' ');
}

function self(): Omit<LockHolder, 'acquired_at' | 'token'> {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    command: commandWords(),
    boot_id: readOrNull('/proc/sys/kernel/random/boot_id'),
    pid_ns: pidNamespace(),
    start_ticks: startTicks(process.pid),
  };
}

/** The lock file of a PGlite data directory, or null for an in-memory one. Symlinks resolved: one dir, one lock. */
export function lockPathFor(dataDir: string): string | null {
  if (!dataDir || dataDir.startsWith('memory://')) return null;
  const dir = path.resolve(dataDir.startsWith('file://') ? dataDir.slice('file://'.length) : dataDir);
  mkdirSync(path.dirname(dir), { recursive: true });
  const real = existsSync(dir)
    ? realpathSync(dir)
    : path.join(realpathSync(path.dirname(dir)), path.basename(dir));
  return `${real}.lock`;
}

function parse(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    return typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0 ? (v as LockHolder) : null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `holder` may still be running (see the rules at the top of the file). */
function isStale(holder: LockHolder | null, stat: Stats): boolean {
  const age = Date.now() - stat.mtimeMs;
  // Unreadable: a holder between its create and its write (microseconds), or a crash right there.
  if (!holder) return age > HEARTBEAT_MS;
  const me = self();
  if (holder.boot_id && holder.pid_ns && holder.boot_id === me.boot_id && holder.pid_ns === me.pid_ns) {
    // Our own pid: this process does not hold it (checked before), so an earlier process had our pid.
    if (holder.pid === me.pid || !alive(holder.pid)) return true;
    const ticks = startTicks(holder.pid);
    return Boolean(holder.start_ticks && ticks && ticks !== holder.start_ticks);
  }
  if (!holder.boot_id && !me.boot_id && holder.hostname === me.hostname)
    return holder.pid === me.pid || !alive(holder.pid);
  if (holder.hostname === me.hostname && holder.boot_id && me.boot_id && holder.boot_id !== me.boot_id)
    return true;
  return age > STALE_AFTER_MS;
}

function describe(holder: LockHolder | null): string {
  if (!holder) return 'a process that is still writing its lock';
  return `process ${holder.pid} (${holder.command}) on ${holder.hostname}, since ${holder.acquired_at}`;
}

/**
 * Moves the stale lock aside. Between our read and the rename another process may have taken it over and made
 * its own: the renamed file is then not the one judged stale (another inode), and it is put back.
 */
function takeOver(lockPath: string, staleIno: number): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomUUID()}`;
  try {
    renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // released meanwhile
    throw err;
  }
  try {
    if (statSync(aside).ino !== staleIno) linkSync(aside, lockPath);
  } catch {
    // A third process created a lock in the instant between: it holds the directory now.
  } finally {
    unlinkSync(aside);
  }
}

const held = new Map<string, { token: string; timer: NodeJS.Timeout }>();
let exitHookInstalled = false;

function releaseFile(lockPath: string, token: string): void {
  const entry = held.get(lockPath);
  if (entry?.token !== token) return;
  clearInterval(entry.timer);
  held.delete(lockPath);
  try {
    // Only if it is still ours: a lock taken over (wrongly judged stale elsewhere) belongs to its new holder.
    if (parse(readFileSync(lockPath, 'utf8'))?.token === token) unlinkSync(lockPath);
  } catch {
    // Already gone.
  }
}

/**
 * Takes the lock of a PGlite data directory, or throws DatabaseLockedError naming the holder. Null for an
 * in-memory PGlite. Synchronous on purpose: nothing else runs between the checks and the create.
 */
export function acquirePgliteLock(dataDir: string): PgliteLock | null {
  const lockPath = lockPathFor(dataDir);
  if (!lockPath) return null;
  const dir = lockPath.slice(0, -'.lock'.length);
  if (held.has(lockPath))
    throw new DatabaseLockedError(
      `the embedded database ${dir} is already open in this process (pid ${process.pid})`,
      lockPath,
      null,
    );
  const holder: LockHolder = {
    ...self(),
    acquired_at: new Date().toISOString(),
    token: randomUUID(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let stat: Stats;
      let existing: LockHolder | null;
      try {
        stat = statSync(lockPath);
        existing = parse(readFileSync(lockPath, 'utf8'));
      } catch {
        continue; // released between the create and the read: try again
      }
      if (!isStale(existing, stat))
        throw new DatabaseLockedError(
          `the embedded database ${dir} is in use by ${describe(existing)}. Two processes on one PGlite ` +
            'directory lose writes without an error, so this one stops here, having written nothing. Stop that ' +
            'process first (CLI commands that open the database need the server stopped when it runs embedded), ' +
            `or run both on PostgreSQL (DATABASE_URL). Lock file: ${lockPath}`,
          lockPath,
          existing,
        );
      takeOver(lockPath, stat.ino);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(holder, null, 2)}\n`);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(lockPath);
      throw err;
    }
    closeSync(fd);
    const timer = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(lockPath, now, now);
      } catch {
        // Removed by hand: nothing to refresh (and re-creating it could take a lock someone else now holds).
      }
    }, HEARTBEAT_MS).unref();
    held.set(lockPath, { token: holder.token, timer });
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // process.exit() without closing the database (a CLI error path) still releases; a signal or kill -9
      // does not, which is what the staleness rules are for.
      process.once('exit', () => {
        for (const [p, e] of [...held]) releaseFile(p, e.token);
      });
    }
    return { path: lockPath, release: () => releaseFile(lockPath, holder.token) };
  }
  throw new DatabaseLockedError(
    `could not take the lock of the embedded database ${dir}: other processes keep taking it`,
    lockPath,
    null,
  );
}
