/**
 * `npm run bench:profile [-- /path]`: where the app's CPU goes on one route. Starts the bench app under
 * `node --cpu-prof` and the bare peer, loads the route (default /health, unauthenticated; set BENCH_AUTH=1 to
 * send the bench user's access token) for BENCH_DURATION seconds after a warm-up, and prints the route's rate
 * next to the bare route's and the top self-time functions of the measured window. The .cpuprofile stays in
 * the printed directory (open it in Chrome DevTools or speedscope for the flame graph).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const route = process.argv[2] ?? '/health';
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const dir = mkdtempSync(path.join(tmpdir(), 'massacorp-prof-'));

function start<T>(args: string[]): [ChildProcess, Promise<T>] {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = new Promise<T>((resolve) =>
    createInterface({ input: child.stdout! }).on('line', (l) => l.startsWith('{') && resolve(JSON.parse(l))),
  );
  return [child, info];
}
const [bareChild, bareInfo] = start<{ port: number }>(['--import', 'tsx', 'bench/peers/bare.ts']);
const [appChild, appInfo] = start<{ appPort: number; accessToken: string }>([
  '--cpu-prof',
  `--cpu-prof-dir=${dir}`,
  '--import',
  'tsx',
  'bench/server.ts',
]);
const bare = await bareInfo;
const app = await appInfo;
// `{userId}` in the path stands for the bench user's id (e.g. /api/v1/users/{userId}).
const target = route.replace('{userId}', String((app as { userId?: unknown }).userId));
const headers = process.env.BENCH_AUTH ? { authorization: `Bearer ${app.accessToken}` } : undefined;
const load = (port: number, p: string, seconds: number) =>
  autocannon({ url: `http://127.0.0.1:${port}${p}`, headers, connections, duration: seconds });

await load(bare.port, '/bare', 1);
const b = await load(bare.port, '/bare', duration);
await load(app.appPort, target, 1);
const windowStart = Date.now();
const a = await load(app.appPort, target, duration);
const windowEnd = Date.now();
bareChild.kill('SIGTERM');
appChild.kill('SIGTERM');
await new Promise((r) => appChild.on('exit', r));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const file = readdirSync(dir)
  .map((f) => path.join(dir, f))
  .sort((x, y) => statSync(y).size - statSync(x).size)[0]!;
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
};
// Profile times are microseconds of a monotonic clock; the measured window is the last one before the end.
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const times: number[] = [];
let t = prof.startTime;
for (const d of prof.timeDeltas) {
  t += d;
  times.push(t);
}
const end = times.at(-1)! - 300_000; // leave the shutdown out
const begin = end - (windowEnd - windowStart) * 1000 + 300_000;
const self = new Map<string, number>();
let busy = 0;
for (let i = 1; i < prof.samples.length; i++) {
  if (times[i]! < begin || times[i]! > end) continue;
  const { functionName, url, lineNumber } = byId.get(prof.samples[i]!)!.callFrame;
  if (functionName === '(idle)') continue;
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  const d = times[i]! - times[i - 1]!;
  self.set(key, (self.get(key) ?? 0) + d);
  busy += d;
}
console.log(
  `${route}: ${a.requests.average.toFixed(0)} req/s (p99 ${a.latency.p99} ms), bare Fastify ${b.requests.average.toFixed(0)} req/s: ${((a.requests.average / b.requests.average) * 100).toFixed(0)} %`,
);
console.log(`top self time of the app over the measured window (${(busy / 1000).toFixed(0)} ms busy):`);
for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, Number(process.env.TOP ?? 25)))
  console.log(`${((v / busy) * 100).toFixed(1).padStart(6)} %  ${k}`);
console.log(`profile: ${file}`);
