/**
 * Runs a test file's cleanups last-registered first, each bounded: one that hangs (an app whose close waits on a
 * stuck connection, a server with a live keep-alive socket) is named in the error instead of the file failing
 * on vitest's anonymous "Hook timed out", and the cleanups after it still run (no private server left behind).
 * A cleanup that fails quickly is ignored, as before: it had nothing left to clean.
 */
export async function runCleanups(
  cleanups: (() => Promise<unknown>)[],
  eachTimeoutMs = 10_000,
): Promise<void> {
  const hung: string[] = [];
  for (const cleanup of cleanups.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), eachTimeoutMs);
    });
    const outcome = await Promise.race([cleanup().catch(() => 'failed'), timedOut]);
    clearTimeout(timer);
    if (outcome === 'hung') hung.push(cleanup.toString().replace(/\s+/g, ' ').slice(0, 120));
  }
  cleanups.length = 0;
  if (hung.length > 0)
    throw new Error(`cleanups still running after ${eachTimeoutMs} ms each:\n${hung.join('\n')}`);
}
