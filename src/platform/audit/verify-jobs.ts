/**
 * Full re-verification of a tenant's chain as a background job (issue 25): the records are read page by page on
 * the main thread (each page one JSON text, passed on unparsed) and hashed on worker threads, so /health and every
 * other request keep answering. The job's state lives in the store (every replica reports the same job) and
 * moves every half second; a valid run sets the tenant's verification mark, which GET /audit/verify starts from.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../context.js';
import { runInBackground } from '../mail/background.js';
import { keys } from '../store/keys.js';
import { type VerifyResult, verifyChain } from './verify.js';
import type { HashPage, PageResult } from './verify-page.js';

export interface VerifyJob {
  job_id: string;
  status: 'running' | 'done' | 'failed';
  checked: number;
  /** Records to check in all (from the anchor to the head read when the job started). */
  total: number;
  started_at: string;
  finished_at: string | null;
  /** Records hashed per second so far. */
  records_per_second: number;
  /** The verification's answer once done (as GET /audit/verify's). */
  result: VerifyResult | null;
  /** Why the job itself failed (database unreachable...), not the chain. */
  error: string | null;
}

const JOB_TTL = 7 * 86_400;
const LOCK_TTL = 3600;
const JOB_PAGE = 5000;

/** A worker thread that hashes pages; under tsx (dev, tests) it runs the TypeScript source through tsx. */
function startOneWorker(): {
  hash: (page: HashPage) => Promise<PageResult>;
  stop: () => Promise<void>;
} {
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(`./verify-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  // Built code runs the .js file; the TypeScript source (dev, tests) loads tsx in the worker first.
  const worker = ts
    ? new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
        { eval: true },
      )
    : new Worker(entry);
  let seq = 0;
  const waiting = new Map<number, { resolve: (r: PageResult) => void; reject: (e: unknown) => void }>();
  worker.on('message', (m: { id: number; result: PageResult }) => {
    waiting.get(m.id)?.resolve(m.result);
    waiting.delete(m.id);
  });
  const failAll = (err: unknown) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`hash worker exited (${code})`)));
  return {
    hash: (page) =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, page });
      }),
    stop: async () => {
      await worker.terminate();
    },
  };
}

/**
 * Hash workers, one per core up to `max` (at least one): pages go to them in turn. Each record's hash is checked
 * on its own (verify-page.ts), so pages need no order between workers; verifyChain checks the results in order.
 * `depth` is how many pages to keep in flight to keep them all busy.
 */
export function startHashWorkers(max = 2): {
  hash: (page: HashPage) => Promise<PageResult>;
  depth: number;
  stop: () => Promise<void>;
} {
  const n = Math.max(1, Math.min(max, availableParallelism()));
  const workers = Array.from({ length: n }, startOneWorker);
  let turn = 0;
  return {
    hash: (page) => workers[turn++ % n]!.hash(page),
    depth: 2 * n,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}

export async function readVerifyJob(
  ctx: Pick<AppContext, 'store'>,
  tenantId: number,
): Promise<VerifyJob | null> {
  const raw = await ctx.store.get(keys.auditVerifyJob(tenantId));
  return raw ? (JSON.parse(raw) as VerifyJob) : null;
}

/**
 * Starts a full re-verification of the tenant's chain, or returns the one already running (on any replica).
 * `started` tells which.
 */
export async function startVerifyJob(
  ctx: Pick<AppContext, 'database' | 'log' | 'store'>,
  tenantId: number,
  /** Runs once the job is ours and before it reads the chain (the caller's audit record is then part of it). */
  beforeRun?: (job: VerifyJob) => Promise<void>,
): Promise<{ job: VerifyJob; started: boolean }> {
  const jobId = randomUUID();
  if (!(await ctx.store.setIfAbsent(keys.auditVerifyLock(tenantId), jobId, LOCK_TTL))) {
    const current = await readVerifyJob(ctx, tenantId);
    if (current?.status === 'running') return { job: current, started: false };
    // The lock outlived its job record (a replica died mid-job): the lock's TTL ends it; report the record.
    if (current) return { job: current, started: false };
  }
  const startedAt = Date.now();
  const job: VerifyJob = {
    job_id: jobId,
    status: 'running',
    checked: 0,
    total: 0,
    started_at: new Date(startedAt).toISOString(),
    finished_at: null,
    records_per_second: 0,
    result: null,
    error: null,
  };
  const save = () => ctx.store.set(keys.auditVerifyJob(tenantId), JSON.stringify(job), JOB_TTL);
  try {
    await beforeRun?.(job);
  } catch (err) {
    await ctx.store.del(keys.auditVerifyLock(tenantId), keys.auditVerifyJob(tenantId));
    throw err;
  }
  await save();
  runInBackground(ctx, 'audit verification job', async () => {
    const worker = startHashWorkers();
    let lastSaved = 0;
    let saving: Promise<void> = Promise.resolve();
    const rate = () => Math.round(job.checked / Math.max(0.001, (Date.now() - startedAt) / 1000));
    try {
      const result = await verifyChain(ctx.database, tenantId, {
        pageSize: JOB_PAGE,
        markFull: true,
        hasher: worker.hash,
        depth: worker.depth,
        onProgress: (checked, total) => {
          job.checked = checked;
          job.total = total;
          if (Date.now() - lastSaved >= 500) {
            lastSaved = Date.now();
            job.records_per_second = rate();
            saving = saving.then(save).catch(() => {});
          }
        },
      });
      job.checked = result.checked;
      job.status = 'done';
      job.result = result;
    } catch (err) {
      ctx.log.warn({ err, tenantId }, 'audit verification job failed');
      job.status = 'failed';
      job.error = 'the verification could not run to its end (see the server log)';
    } finally {
      await worker.stop();
      await saving;
      job.finished_at = new Date().toISOString();
      job.records_per_second = rate();
      await save();
      await ctx.store.del(keys.auditVerifyLock(tenantId));
    }
  });
  return { job, started: true };
}
