/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): on every read and list, including
 * sub-attributes (`name.givenName`, `emails.value`) and extension attributes by their full URN
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`). `id` and `schemas` are always
 * returned; `meta` too unless asked away. Names are case-insensitive.
 */
import { ENTERPRISE_SCHEMA } from './filter.js';

type Json = Record<string, unknown>;
export interface Projection {
  attributes: string[][] | null;
  excluded: string[][];
}

const ALWAYS = new Set(['id', 'schemas']);

function paths(list: string | undefined, coreSchema: string): string[][] {
  if (!list?.trim()) return [];
  return list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const lower = p.toLowerCase();
      const core = `${coreSchema.toLowerCase()}:`;
      const ent = ENTERPRISE_SCHEMA.toLowerCase();
      if (lower.startsWith(core)) return lower.slice(core.length).split('.');
      if (lower === ent) return [ent];
      if (lower.startsWith(`${ent}:`)) return [ent, ...lower.slice(ent.length + 1).split('.')];
      return lower.split('.');
    });
}

export function projectionOf(
  q: { attributes?: string; excludedAttributes?: string },
  coreSchema: string,
): Projection {
  const attributes = paths(q.attributes, coreSchema);
  return {
    attributes: attributes.length ? attributes : null,
    excluded: paths(q.excludedAttributes, coreSchema),
  };
}

/** Whether the projection leaves `attr` (lower-case, top level) in the answer at all. */
export function wants(p: Projection, attr: string): boolean {
  if (p.excluded.some((x) => x.length === 1 && x[0] === attr)) return false;
  if (!p.attributes) return true;
  return p.attributes.some((x) => x[0] === attr);
}

function include(value: unknown, sel: string[][]): unknown {
  if (sel.some((s) => s.length === 0)) return value;
  if (Array.isArray(value)) return value.map((v) => include(v, sel));
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    const key = k.toLowerCase();
    const sub = sel.filter((s) => s[0] === key).map((s) => s.slice(1));
    if (sub.length > 0) out[k] = include(v, sub);
  }
  return out;
}

function exclude(value: unknown, sel: string[][]): unknown {
  if (Array.isArray(value)) return value.map((v) => exclude(v, sel));
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    const key = k.toLowerCase();
    const sub = sel.filter((s) => s[0] === key).map((s) => s.slice(1));
    if (sub.some((s) => s.length === 0)) continue;
    out[k] = sub.length > 0 ? exclude(v, sub) : v;
  }
  return out;
}

/** The resource as the projection asks for it; empty objects left by a projection are dropped. */
export function project<T extends Json>(resource: T, p: Projection): Json {
  let out: Json = resource;
  if (p.attributes) {
    const sel = [...p.attributes, ...[...ALWAYS].map((a) => [a])];
    out = include(resource, sel) as Json;
  }
  if (p.excluded.length > 0)
    out = exclude(
      out,
      p.excluded.filter((x) => !(x.length === 1 && ALWAYS.has(x[0]!))),
    ) as Json;
  for (const [k, v] of Object.entries(out))
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)
      delete out[k];
  return out;
}
