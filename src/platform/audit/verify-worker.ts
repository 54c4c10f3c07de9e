/**
 * The hashing of a full re-verification, on a worker thread (verify.ts starts it): the main thread reads pages of
 * records and posts them here; this thread recomputes each hash and answers where the page ends or fails, so a
 * chain of millions of records never holds the event loop.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type HashPage, hashPage } from './verify-page.js';

/**
 * This thread hashes at a lower priority than the event loop (nice 10): a verification of millions of records
 * keeps both cores busy, and the requests the process serves meanwhile must not queue behind it (GET /health p99
 * 10.5 ms during a 5,000,000-record verification at nice 0). On Linux a thread's nice value is its own, and
 * setpriority(0) sets the calling thread's; the hashing still has every cycle nobody else wants. Raising one's
 * own nice needs no privilege; where it is refused, the thread runs as before.
 */
export const HASH_THREAD_NICE = 10;
try {
  setPriority(HASH_THREAD_NICE);
} catch {
  // not permitted here: hash at the normal priority
}

parentPort?.on('message', (msg: { id: number; page: HashPage }) => {
  parentPort!.postMessage({ id: msg.id, result: hashPage(msg.page) });
});
