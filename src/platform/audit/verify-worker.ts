/**
 * The hashing of a full re-verification, on a worker thread (verify.ts starts it): the main thread reads pages of
 * records and posts them here; this thread recomputes each hash and answers where the page ends or fails, so a
 * chain of millions of records never holds the event loop.
 */
import { parentPort } from 'node:worker_threads';
import { type HashPage, hashPage } from './verify-page.js';

parentPort?.on('message', (msg: { id: number; page: HashPage }) => {
  parentPort!.postMessage({ id: msg.id, result: hashPage(msg.page) });
});
