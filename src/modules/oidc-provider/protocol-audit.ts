/**
 * The audit records of the protocol endpoints. Tokens are issued by the library in its own writes, so their
 * records are written alone, right after (like a refused sign-in's): who (the user, or the client for a machine
 * token), which client, which grant type, from where. A refused token request is audited too (`success: false`),
 * as are the grants the library revokes (a replayed code, a reused refresh token, RFC 7009) and sign-outs. The
 * library's events cannot be awaited, so each write is kept on the request and a middleware waits for them before
 * the response leaves: when the client has its answer, the record exists.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import type { AuditContext, AuditEvent } from '../../platform/audit/writer.js';
import type { OidcProviderDeps } from './deps.js';

function contextOf(ctx: KoaContextWithOIDC, accountId: string | undefined): AuditContext {
  const requestId = ctx.res.getHeader('x-request-id');
  return {
    actorType: accountId ? 'user' : 'system',
    actorId: accountId ?? null,
    ipAddress: ctx.ip,
    userAgent: (ctx.get('user-agent') || '').slice(0, 512) || null,
    requestId: typeof requestId === 'string' ? requestId : null,
    sessionId: null,
  };
}

const PENDING = Symbol('pending audit writes');
type WithPending = { [PENDING]?: Promise<void>[] };

export function auditProtocol(deps: OidcProviderDeps, tenantId: number, provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const pending = (ctx.state as WithPending)[PENDING];
    if (pending) await Promise.all(pending);
  });
  const write = (ctx: KoaContextWithOIDC, accountId: string | undefined, event: AuditEvent) => {
    const written = writeAuditAlone(deps, tenantId, contextOf(ctx, accountId), event, {
      bestEffort: 'could not audit an OpenID Provider event',
    });
    const state = ctx.state as WithPending;
    state[PENDING] ??= [];
    state[PENDING].push(written);
  };
  const clientId = (ctx: KoaContextWithOIDC) => ctx.oidc?.client?.clientId ?? null;
  const grantType = (ctx: KoaContextWithOIDC) => String(ctx.oidc?.params?.grant_type ?? '');

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.entities.AccessToken?.accountId;
    write(ctx, accountId, {
      eventType: 'oidc.token_issued',
      resourceType: 'oidc_client',
      resourceId: clientId(ctx),
      metadata: { grant_type: grantType(ctx) },
    });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error?: string }) => {
    write(ctx, undefined, {
      eventType: 'oidc.token_refused',
      success: false,
      resourceType: 'oidc_client',
      resourceId: clientId(ctx),
      metadata: { grant_type: grantType(ctx), error: err.error ?? 'server_error' },
    });
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    write(ctx, undefined, {
      eventType: 'oidc.grant_revoked',
      resourceType: 'oidc_client',
      resourceId: clientId(ctx),
      metadata: { grant_id: grantId },
    });
  });
  // A logout token the application did not take: the sign-out went on; the operator sees why in the log.
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }) => {
    deps.log.warn({ err, tenantId, clientId: client?.clientId }, 'back-channel logout delivery failed');
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    write(ctx, ctx.oidc.session?.accountId, {
      eventType: 'oidc.sign_out',
      resourceType: 'oidc_client',
      resourceId: clientId(ctx),
      metadata: {},
    });
  });
}
