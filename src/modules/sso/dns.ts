/**
 * Domain verification by DNS TXT (API.md §17): `_massacorp-verify.<domain>` must hold the connection's
 * domain_token. node:dns's Resolver, over the servers of DNS_SERVERS (`ip` or `ip:port`; empty: the system's).
 */

import { Resolver } from 'node:dns/promises';
import type { SsoDeps } from './deps.js';

export type TxtCheck = { ok: true } | { ok: false; reason: 'no_record' | 'mismatch' | 'dns_error' };

export async function verifyDomainTxt(ctx: SsoDeps, name: string, token: string): Promise<TxtCheck> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (ctx.config.dnsServers.length > 0) resolver.setServers(ctx.config.dnsServers);
  let records: string[][];
  try {
    records = await resolver.resolveTxt(name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return { ok: false, reason: 'no_record' };
    ctx.log.warn({ err, name }, 'DNS TXT lookup failed');
    return { ok: false, reason: 'dns_error' };
  }
  // A TXT record may be split in several strings: they join into one value.
  const values = records.map((chunks) => chunks.join('').trim());
  if (values.length === 0) return { ok: false, reason: 'no_record' };
  return values.includes(token) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
