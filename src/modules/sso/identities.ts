/**
 * Link mode and the caller's external identities (API.md §17): a signed-in user links an identity of an SSO
 * connection or a social provider to their own account (authorize with `mode=link` and their bearer token; the
 * callback links instead of signing anyone in), lists them (GET /sso/identities) and removes one (DELETE
 * /sso/identities/{id}), never the last way to sign in. Linking and removing are audited in their transaction and
 * mailed to the account's address (a new way into an account is what an attacker would add).
 */

import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { AppError, notFound, platformErrors } from '../../platform/http/errors.js';
import { runInBackground } from '../../platform/mail/background.js';
import { identityLinkedMail, identityUnlinkedMail } from '../../platform/mail/templates.js';
import { userGrantProfile } from '../rbac/index.js';
import { getSession, isSessionActive } from '../sessions/index.js';
import { getTenant } from '../tenants/index.js';
import { userById } from '../users/index.js';
import { ceilingExceeded, ceilingOf } from './ceiling.js';
import type { SsoDeps } from './deps.js';
import { ssoError } from './errors.js';
import type { LinkTarget } from './flows.js';
import * as repo from './repository.js';
import { sourceOf, type VerifiedIdentity } from './signin.js';
import { socialError } from './social/errors.js';
import { lockIdentitiesOfUser, lockUserRow } from './social/repository.js';
import type { ExternalIdentityRow } from './tables.js';

/**
 * "Never the last way to sign in" (POST /oauth/unlink and DELETE /sso/identities/{id} alike): a password, or
 * another identity (social or enterprise), must remain. 409 OAUTH_LAST_SIGN_IN_METHOD otherwise.
 */
export function assertAnotherWayIn(user: { passwordHash: string | null }, identitiesLeft: number): void {
  if (!user.passwordHash && identitiesLeft === 0) throw socialError('OAUTH_LAST_SIGN_IN_METHOD');
}

function sourceName(ctx: SsoDeps, id: VerifiedIdentity): string {
  if (id.source.kind === 'connection') return `SSO ${id.source.connection.name}`;
  const provider = id.source.provider;
  return ctx.config.oauth.providers.find((p) => p.provider === provider)?.name ?? provider;
}

/**
 * Links a verified identity to the caller who started the flow in link mode. Refused when the caller's account or
 * session is gone, when an SSO connection's grant ceiling does not cover the caller (./ceiling.ts: the connection's
 * editor could otherwise sign in as them later), or (409) when the identity belongs to someone else. Linking the
 * same identity again is a no-op success.
 */
export async function linkToCaller(
  ctx: SsoDeps,
  id: VerifiedIdentity,
  target: LinkTarget,
  audit: AuditContext,
): Promise<{ identityId: string; created: boolean }> {
  const src = sourceOf(id.source);
  const { tenantId } = id;
  // The callback is public: the record names the user who asked for the link, in their session.
  const userAudit: AuditContext = {
    ...audit,
    actorType: 'user',
    actorId: String(target.userId),
    sessionId: target.sessionId,
  };
  const done = await ctx.database.withTenant(tenantId, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (tenant?.status !== 'active') throw ssoError('SSO_CONNECTION_DISABLED', { reason: 'tenant_inactive' });
    const user = await userById(tx, tenantId, target.userId);
    if (!user?.isActive) throw platformErrors.error('ACCOUNT_INACTIVE');
    if (target.sessionId) {
      // Signed out (or revoked) while at the identity provider: the request to link is void.
      const session = await getSession(tx, tenantId, target.sessionId);
      if (!session || session.userId !== user.id || !isSessionActive(session, ctx.clock.now()))
        throw ssoError('SSO_LINK_REFUSED', { reasons: ['session_ended'] });
    }
    if (id.source.kind === 'connection') {
      const over = ceilingExceeded(
        await ceilingOf(ctx, tx, id.source.connection),
        await userGrantProfile(ctx, tx, tenantId, user.id),
      );
      if (over) throw ssoError('SSO_LINK_REFUSED', { reasons: ['grant_ceiling'], ...over });
    }
    const existing = await repo.findIdentity(tx, tenantId, src, id.issuer, id.subject);
    if (existing) {
      if (existing.userId !== user.id) throw ssoError('SSO_IDENTITY_ALREADY_LINKED');
      return { user, identityId: existing.id, created: false };
    }
    const email = id.email?.trim().toLowerCase() ?? null;
    const inserted = await repo.insertIdentity(tx, tenantId, user.id, src, id, email);
    // A concurrent link or first sign-in of the same identity won: it is someone's now (or ours: retry says so).
    if (!inserted) throw ssoError('SSO_IDENTITY_ALREADY_LINKED');
    await writeAudit(tx, tenantId, userAudit, {
      eventType: 'sso.identity_linked',
      resourceType: 'user',
      resourceId: user.id,
      metadata: {
        method: 'link',
        identity_id: inserted.id,
        connection_id: src.connectionId,
        provider: src.provider,
        issuer: id.issuer,
        subject: id.subject,
      },
    });
    return { user, identityId: inserted.id, created: true };
  });
  if (done.created) {
    const mail = identityLinkedMail(done.user.email, {
      at: new Date(ctx.clock.now()),
      source: sourceName(ctx, id),
      ip: audit.ipAddress ?? null,
    });
    runInBackground(ctx, 'identity linked mail', () => ctx.mailer.send(mail));
  }
  return { identityId: done.identityId, created: done.created };
}

/** An external identity as its owner sees it: GET /sso/identities and the GDPR export alike. */
export function identityRead(i: ExternalIdentityRow) {
  return {
    id: i.id,
    connection_id: i.connectionId,
    provider: i.provider,
    issuer: i.issuer,
    subject: i.subject,
    email: i.email,
    created_at: i.createdAt.toISOString(),
    last_login_at: i.lastLoginAt?.toISOString() ?? null,
  };
}

/** GET /sso/identities: the caller's external identities (enterprise and social), oldest first. */
export async function listIdentities(ctx: SsoDeps, tenantId: number, userId: number) {
  const rows = await ctx.database.withTenant(tenantId, (tx) => repo.identitiesOfUser(tx, tenantId, userId));
  return { identities: rows.map(identityRead), total: rows.length };
}

/**
 * DELETE /sso/identities/{id}: removes one of the caller's identities (404 for anyone else's, in any tenant),
 * never the last way to sign in (409, audited). The user's row and identities are locked, as POST /oauth/unlink
 * does: two concurrent removals of a user's last two identities cannot both succeed.
 */
export async function unlinkIdentity(
  ctx: SsoDeps,
  tenantId: number,
  userId: number,
  identityId: string,
  audit: AuditContext,
): Promise<void> {
  let removed: { email: string; identity: ExternalIdentityRow; source: string };
  try {
    removed = await ctx.database.withTenant(tenantId, async (tx) => {
      await lockUserRow(tx, tenantId, userId);
      const user = await userById(tx, tenantId, userId);
      if (!user) throw notFound('sso_identity');
      const all = await lockIdentitiesOfUser(tx, tenantId, userId);
      const target = all.find((i) => i.id === identityId);
      if (!target) throw notFound('sso_identity');
      assertAnotherWayIn(user, all.length - 1);
      const identity = await repo.deleteIdentity(tx, tenantId, userId, identityId);
      if (!identity) throw notFound('sso_identity');
      const connection = identity.connectionId
        ? await repo.findConnection(tx, tenantId, identity.connectionId)
        : null;
      await writeAudit(tx, tenantId, audit, {
        eventType: 'sso.identity_unlinked',
        resourceType: 'user',
        resourceId: userId,
        metadata: {
          identity_id: identity.id,
          connection_id: identity.connectionId,
          provider: identity.provider,
          issuer: identity.issuer,
          subject: identity.subject,
        },
      });
      const source = connection
        ? `SSO ${connection.name}`
        : (ctx.config.oauth.providers.find((p) => p.provider === identity.provider)?.name ??
          identity.provider);
      return { email: user.email, identity, source };
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'OAUTH_LAST_SIGN_IN_METHOD')
      await writeAuditAlone(
        ctx,
        tenantId,
        audit,
        {
          eventType: 'sso.identity_unlink_refused',
          success: false,
          resourceType: 'user',
          resourceId: userId,
          metadata: { identity_id: identityId, error: err.code },
        },
        { bestEffort: 'could not audit a refused identity removal' },
      );
    throw err;
  }
  const mail = identityUnlinkedMail(removed.email, {
    at: new Date(ctx.clock.now()),
    source: removed.source,
    ip: audit.ipAddress ?? null,
  });
  runInBackground(ctx, 'identity unlinked mail', () => ctx.mailer.send(mail));
}
