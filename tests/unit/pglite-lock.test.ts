/**
 * Issue 18 item 9: the lock of a directory-backed PGlite (src/platform/db/pglite-lock.ts). Lock files are written
 * by hand here to stand for every kind of holder: alive, dead, a reused pid, another pid namespace, an earlier
 * process that had our pid. The real second process (the CLI) is in tests/integration/cli.test.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquirePgliteLock,
  DatabaseLockedError,
  type LockHolder,
  lockPathFor,
  STALE_AFTER_MS,
} from '../../src/platform/db/pglite-lock.js';

const root = mkdtempSync(path.join(tmpdir(), 'massacorp-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `pglite-${++n}`);

const linux = existsSync('/proc/self/stat');
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim() : null);
const startTicksOf = (pid: number) => {
  const stat = read(`/proc/${pid}/stat`)!;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

/** A holder as this machine and pid namespace would write it, with `over` on top. */
function holder(over: Partial<LockHolder>): LockHolder {
  return {
    pid: process.ppid,
    hostname: os.hostname(),
    command: 'main.ts',
    boot_id: read('/proc/sys/kernel/random/boot_id'),
    pid_ns: linux ? readlinkSync('/proc/self/ns/pid') : null,
    start_ticks: linux ? startTicksOf(process.ppid) : null,
    acquired_at: new Date().toISOString(),
    token: 'someone-else',
    ...over,
  };
}

function writeLock(dir: string, h: LockHolder, ageMs = 0): string {
  const file = lockPathFor(dir)!;
  writeFileSync(file, JSON.stringify(h));
  const at = new Date(Date.now() - ageMs);
  utimesSync(file, at, at);
  return file;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

const tokenIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as LockHolder).token;

describe('issue 18 item 9: one process per embedded database directory', () => {
  it('finding 9 — a live holder is refused at once, the message names its pid and command', () => {
    const dir = freshDir();
    const file = writeLock(dir, holder({ pid: process.ppid, command: 'main.ts' }));
    let error: unknown;
    try {
      acquirePgliteLock(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatabaseLockedError);
    expect((error as Error).message).toContain(`process ${process.ppid} (main.ts)`);
    expect((error as Error).message).toContain(path.basename(dir));
    expect(tokenIn(file)).toBe('someone-else'); // untouched
  });

  it('finding 9 — a lock left by a dead process (kill -9) is taken over', () => {
    const dir = freshDir();
    const file = writeLock(dir, holder({ pid: deadPid(), start_ticks: null }));
    const lock = acquirePgliteLock(dir)!;
    const mine = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    expect(mine.pid).toBe(process.pid);
    expect(mine.token).not.toBe('someone-else');
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it.runIf(linux)(
    'finding 9 — a lock whose pid now belongs to another process (other start time: pid reuse) is taken over',
    () => {
      const dir = freshDir();
      writeLock(dir, holder({ pid: process.ppid, start_ticks: '1' }));
      acquirePgliteLock(dir)!.release();
    },
  );

  it.runIf(linux)(
    'finding 9 — a lock carrying our own pid, left by an earlier process (a container restarted as pid 1), is taken over',
    () => {
      const dir = freshDir();
      writeLock(dir, holder({ pid: process.pid, start_ticks: '1' }));
      acquirePgliteLock(dir)!.release();
    },
  );

  it('finding 9 — a holder in another pid namespace or host is trusted while it touches the lock, stale once it stops', () => {
    const dir = freshDir();
    const other = holder({ pid: 1, hostname: 'api-7f9c', pid_ns: 'pid:[1]', boot_id: 'another-boot' });
    writeLock(dir, other, 1000);
    expect(() => acquirePgliteLock(dir)).toThrow(/in use by process 1 \(main\.ts\) on api-7f9c/);
    const file = writeLock(dir, other, STALE_AFTER_MS + 1000);
    const lock = acquirePgliteLock(dir)!;
    expect(tokenIn(file)).not.toBe('someone-else');
    lock.release();
  });

  it('finding 9 — the same directory opened twice in one process is refused; released, it opens again', () => {
    const dir = freshDir();
    const lock = acquirePgliteLock(dir)!;
    expect(() => acquirePgliteLock(dir)).toThrow(/already open in this process/);
    // The same directory under another spelling is the same lock.
    expect(() => acquirePgliteLock(`${dir}/../${path.basename(dir)}`)).toThrow(DatabaseLockedError);
    lock.release();
    acquirePgliteLock(dir)!.release();
  });

  it('finding 9 — release removes the lock only while it is still ours', () => {
    const dir = freshDir();
    const lock = acquirePgliteLock(dir)!;
    // Another process took it over meanwhile (it judged ours stale): its lock is not ours to remove.
    const file = writeLock(dir, holder({}));
    lock.release();
    expect(tokenIn(file)).toBe('someone-else');
  });

  it('finding 9 — an in-memory PGlite takes no lock', () => {
    expect(lockPathFor('memory://')).toBeNull();
    expect(acquirePgliteLock('memory://')).toBeNull();
    expect(acquirePgliteLock('memory://')).toBeNull();
  });
});
