/**
 * What grew between two V8 heap snapshots: the self size of every object kind (type and constructor or
 * string class), summed per kind, before and after, largest growth first. Used by bench/webhooks.ts
 * (BENCH_HEAP_SNAPSHOTS=dir) to say what a burst leaves on the heap; run alone as
 * `npx tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [rows]`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per kind: `object:Map`, `string`, `code`, `array:(object elements)`… */
export function sizesByKind(path: string): Map<string, { bytes: number; count: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    // Strings are named by their content: one kind for all of them; objects by their constructor.
    const kind =
      type === 'object' || type === 'native' || type === 'closure' || type === 'array'
        ? `${type}:${s.strings[s.nodes[i + nameAt]!]!.slice(0, 60)}`
        : type;
    const k = out.get(kind) ?? { bytes: 0, count: 0 };
    k.bytes += s.nodes[i + sizeAt]!;
    k.count += 1;
    out.set(kind, k);
  }
  return out;
}

export interface KindGrowth {
  kind: string;
  before_kb: number;
  after_kb: number;
  growth_kb: number;
  count_growth: number;
}

export function heapGrowth(
  beforePath: string,
  afterPath: string,
  rows = 15,
): { total_growth_kb: number; top: KindGrowth[] } {
  const before = sizesByKind(beforePath);
  const after = sizesByKind(afterPath);
  const kinds = new Set([...before.keys(), ...after.keys()]);
  const all: KindGrowth[] = [];
  let total = 0;
  for (const kind of kinds) {
    const b = before.get(kind) ?? { bytes: 0, count: 0 };
    const a = after.get(kind) ?? { bytes: 0, count: 0 };
    total += a.bytes - b.bytes;
    all.push({
      kind,
      before_kb: Math.round(b.bytes / 1024),
      after_kb: Math.round(a.bytes / 1024),
      growth_kb: Math.round((a.bytes - b.bytes) / 1024),
      count_growth: a.count - b.count,
    });
  }
  all.sort((x, y) => y.growth_kb - x.growth_kb);
  return { total_growth_kb: Math.round(total / 1024), top: all.slice(0, rows) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [before, after, rows] = process.argv.slice(2);
  if (!before || !after) {
    console.error('usage: tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [rows]');
    process.exit(2);
  }
  console.log(JSON.stringify(heapGrowth(before, after, Number(rows ?? 15)), null, 1));
}
