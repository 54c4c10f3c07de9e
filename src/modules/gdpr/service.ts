/**
 * GDPR rights (API.md §9): export, erasure, anonymisation, inventory. Everything runs in the caller's tenant;
 * a user id of another tenant is simply not found (404). The GDPR module owns no table: each module that holds
 * personal data registers its hooks (ctx.hooks.gdprExport / gdprErase, from its own gdpr.ts), and this service
 * runs them in ONE transaction with the action's audit record. Erasure and anonymisation: the user's row is
 * locked, the userDeactivated hooks end what the account gave access to, then every module erases or scrubs what
 * it holds (data phase), the audit trail's personal values go (audit phase), and the user row is deleted or
 * scrubbed (account phase).
 */

import { createHmac } from 'node:crypto';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AfterCommit, GdprErasePhase, GdprErasure } from '../../platform/context.js';
import { notFound } from '../../platform/http/errors.js';
import { readTenantSettings } from '../tenants/index.js';
import { type Actor, assertMayRemoveUser, lockUserForErasure, runUserDeactivated } from '../users/index.js';
import type { GdprDeps } from './deps.js';
import { type ErasureMode, gdprErrors } from './errors.js';
import { inventory } from './inventory.js';
import type { AnonymizeBody, DeleteBody, ExportResponse } from './schemas.js';

/**
 * The export's documented sections (API.md §9, ExportResponse), in their documented order; each comes from the
 * hook of the module that holds it. Every other hook's section follows, in registration order.
 */
const CORE_SECTIONS = [
  'user',
  'sessions',
  'audit_events',
  'audit_events_truncated',
  'password_reset_requests',
  'identities',
] as const;
const RESERVED = new Set<string>(['exported_at', 'tenant_id']);

/** Stable, non-reversible name of a user for records and anonymised rows: the same user always gets the same one. */
export function pseudonymFor(ctx: GdprDeps, tenantId: number, userId: number): string {
  return `user-${createHmac('sha256', ctx.config.encryptionKey).update(`gdpr-pseudonym:${tenantId}:${userId}`).digest('hex').slice(0, 20)}`;
}

export async function exportUser(ctx: GdprDeps, tenantId: number, userId: number, audit: AuditContext) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const sections = new Map<string, unknown>();
    const put = (key: string, value: unknown) => {
      // Two modules claiming one section is a registration bug: fail loudly rather than drop data.
      if (sections.has(key) || RESERVED.has(key))
        throw new Error(`GDPR export section "${key}" is claimed twice`);
      sections.set(key, value);
    };
    // Sequential: one transaction is one connection.
    for (const hook of ctx.hooks.gdprExport) {
      const value = await hook.collect(tx, tenantId, userId);
      if (hook.spread) for (const [k, v] of Object.entries(value as Record<string, unknown>)) put(k, v);
      else put(hook.name, value);
    }
    // The users module's section is null for a user the tenant does not have.
    if (!sections.get('user')) throw notFound('user');
    const core = new Set<string>(CORE_SECTIONS);
    const moduleKeys = [...sections.keys()].filter((k) => !core.has(k));
    await writeAudit(tx, tenantId, audit, {
      eventType: 'gdpr.exported',
      resourceType: 'user',
      resourceId: userId,
      metadata: { sections: moduleKeys },
    });
    const out: Record<string, unknown> = { exported_at: new Date().toISOString(), tenant_id: tenantId };
    for (const k of CORE_SECTIONS) out[k] = sections.get(k);
    // No identity-provider links exist yet (social/SSO); a module that adds them exports under this name.
    out.identities ??= [];
    for (const k of moduleKeys) out[k] = sections.get(k);
    // The sections are the hooks' (unknown to this module); the response schema checks their shape.
    return out as ExportResponse;
  });
}

const PHASES: readonly GdprErasePhase[] = ['data', 'audit', 'account'];

/**
 * Erasure and anonymisation take a user out of the tenant: they apply exactly the checks of deleting one
 * (users module: not oneself, the caller dominates the user, never the last active owner).
 */
export async function eraseUser(
  ctx: GdprDeps,
  actor: Actor,
  body: DeleteBody | AnonymizeBody,
  mode: ErasureMode,
) {
  const { tenantId, audit } = actor;
  const userId = body.user_id;
  if (actor.userId === userId) throw gdprErrors.error('CANNOT_ERASE_SELF');
  await assertMayRemoveUser(ctx, actor, userId);
  const pseudonym = pseudonymFor(ctx, tenantId, userId);
  const reason = mode === 'deleted' ? 'gdpr_erasure' : 'gdpr_anonymization';
  const result = await ctx.database.withTenant(tenantId, async (tx) => {
    const { email } = await lockUserForErasure(tx, tenantId, userId);
    await runUserDeactivated(ctx, tx, tenantId, userId, reason, audit);
    const erasure: GdprErasure = { mode, reason, email, pseudonym, audit };
    const moduleNames: string[] = [];
    const afterCommit: AfterCommit[] = [];
    const figures = new Map<string, number>();
    for (const phase of PHASES) {
      for (const hook of ctx.hooks.gdprErase) {
        if ((hook.phase ?? 'data') !== phase) continue;
        const out = await hook.erase(tx, tenantId, userId, (fn) => afterCommit.push(fn), erasure);
        for (const [k, n] of Object.entries(out ?? {})) figures.set(k, (figures.get(k) ?? 0) + n);
        moduleNames.push(hook.name);
      }
    }
    const counts = {
      sessions_revoked: figures.get('sessions_revoked') ?? 0,
      audit_values_erased: figures.get('audit_values_erased') ?? 0,
    };
    await writeAudit(tx, tenantId, audit, {
      eventType: mode === 'deleted' ? 'gdpr.erased' : 'gdpr.anonymized',
      resourceType: 'user',
      resourceId: userId,
      metadata: { reason: body.reason, pseudonym, ...counts, modules: moduleNames },
    });
    return { counts, moduleNames, afterCommit };
  });
  // Only now that the erasure has committed: store flags every replica obeys (API keys, session revocations,
  // login counters). A failure here propagates (500) although the erasure is done; its rows are already revoked.
  for (const after of result.afterCommit) await after();
  return { user_id: userId, mode, pseudonym, ...result.counts, modules: result.moduleNames };
}

export async function tenantInventory(ctx: GdprDeps, tenantId: number) {
  const settings = await ctx.database.withTenant(tenantId, (tx) => readTenantSettings(ctx, tx, tenantId));
  return inventory(settings.audit_retention_days);
}
