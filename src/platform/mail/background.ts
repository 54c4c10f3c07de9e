/**
 * Work that must not delay a response (sending mail, the body of a password-reset request, whose answer must
 * take the same time whether the address exists or not). Each app keeps its own set of pending tasks, so
 * closing the app (tests, graceful shutdown) waits for them instead of cutting them off mid-transaction.
 */
import type { AppContext } from '../context.js';

/** Only the logger is used; the context object itself keys the app's pending tasks, so pass the same one to drain. */
type BackgroundDeps = Pick<AppContext, 'log'>;

const pending = new WeakMap<BackgroundDeps, Set<Promise<unknown>>>();

export function runInBackground(ctx: BackgroundDeps, what: string, task: () => Promise<unknown>): void {
  let set = pending.get(ctx);
  if (!set) {
    set = new Set();
    pending.set(ctx, set);
  }
  const p: Promise<unknown> = Promise.resolve()
    .then(task)
    .catch((err) => ctx.log.warn({ err }, `${what} failed`))
    .finally(() => set?.delete(p));
  set.add(p);
}

/** Resolves when every task started so far (and any they start) has finished. */
export async function drainBackground(ctx: BackgroundDeps): Promise<void> {
  const set = pending.get(ctx);
  while (set && set.size > 0) await Promise.allSettled([...set]);
}
