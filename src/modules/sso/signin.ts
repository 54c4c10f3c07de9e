import type { FastifyReply, FastifyRequest } from 'fastify';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import type { AppContext } from '../../platform/context.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Tx } from '../../platform/db/client.js';
import { AppError, forbidden } from '../../platform/http/errors.js';
import { completeLogin, type LoginResponse, loginResponse, mfaRequiredResponse } from '../auth/index.js';
import { grantRoleByCode } from '../rbac/index.js';
import type { ClientInfo } from '../sessions/index.js';
import { getTenant } from '../tenants/index.js';
import { createUserInTx, prepareUser, type UserRow, userByEmail, userById } from '../users/index.js';
import { type SsoErrorCode, ssoError } from './errors.js';
import type { FlowState } from './flows.js';
import * as repo from './repository.js';
import { domainVerifiedFor, signInRefusal } from './service.js';
import type { ConnectionRow } from './tables.js';

/** Where an external identity comes from: an enterprise connection, or a social login provider (§9). */
export type IdentitySource =
  | { kind: 'connection'; connection: ConnectionRow }
  | {
      kind: 'provider';
      /** google, github, microsoft, oidc */
      provider: string;
      jitProvisioning: boolean;
      defaultRole: string;
      trustMfa: boolean;
    };

/** What a protocol has verified about the person (signature, issuer, audience, time, replay already checked). */
export interface VerifiedIdentity {
  tenantId: number;
  source: IdentitySource;
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  givenName?: string | null;
  familyName?: string | null;
  /** The identity provider says it performed MFA (OIDC amr, SAML AuthnContext); recorded, see trust_mfa. */
  mfaAsserted?: boolean;
}

const CODE_TTL_SECONDS = 60;
// Store keys name a hash of the secret, never the secret itself.
const hashed = sha256Hex;
const codeKey = (code: string) => `sso:code:${hashed(code)}`;

interface PendingCode {
  tenantId: number;
  userId: number;
  connectionId: string | null;
  provider: string;
  trustMfa: boolean;
}

const sourceOf = (s: IdentitySource) =>
  s.kind === 'connection'
    ? {
        connectionId: s.connection.id,
        provider: 'sso',
        jit: s.connection.jitProvisioning,
        defaultRole: s.connection.defaultRole,
        trustMfa: s.connection.trustMfa,
      }
    : {
        connectionId: null,
        provider: s.provider,
        jit: s.jitProvisioning,
        defaultRole: s.defaultRole,
        trustMfa: s.trustMfa,
      };

async function linkOrCreate(ctx: AppContext, tx: Tx, id: VerifiedIdentity, audit: AuditContext) {
  const src = sourceOf(id.source);
  const { tenantId } = id;
  const existing = await repo.findIdentity(tx, tenantId, src, id.issuer, id.subject);
  if (existing) {
    const user = await userById(tx, tenantId, existing.userId);
    if (!user) throw ssoError('SSO_USER_NOT_PROVISIONED');
    await repo.touchIdentity(tx, tenantId, existing.id, id.email);
    return { user, outcome: 'existing_identity' as const };
  }
  if (!id.email) throw ssoError('SSO_EMAIL_MISSING');
  const email = id.email.trim().toLowerCase();
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const domainVerified = src.connectionId
    ? await domainVerifiedFor(tx, tenantId, src.connectionId, domain)
    : false;
  const local = await userByEmail(tx, tenantId, email);
  let user: UserRow;
  let outcome: 'linked' | 'created';
  if (local) {
    if (!((id.emailVerified || domainVerified) && local.isVerified))
      throw ssoError('SSO_LINK_REFUSED', {
        idp_email_verified: id.emailVerified,
        domain_verified: domainVerified,
        local_email_verified: local.isVerified,
      });
    user = local;
    outcome = 'linked';
  } else {
    if (!src.jit) throw ssoError('SSO_USER_NOT_PROVISIONED');
    const prepared = await prepareUser(
      ctx,
      {
        email,
        password: null,
        firstName: id.givenName ?? null,
        lastName: id.familyName ?? null,
        isActive: true,
        isSuperuser: false,
        isVerified: id.emailVerified || domainVerified,
      },
      null,
    );
    user = await createUserInTx(ctx, tx, tenantId, prepared, {
      source: 'sso',
      audit,
      metadata: { connection_id: src.connectionId, provider: src.provider },
    });
    await grantRoleByCode(tx, tenantId, user.id, src.defaultRole);
    outcome = 'created';
  }
  const inserted = await repo.insertIdentity(tx, {
    tenantId,
    userId: user.id,
    connectionId: src.connectionId,
    provider: src.provider,
    issuer: id.issuer,
    subject: id.subject,
    email,
  });
  // A concurrent first sign-in of the same identity inserted it first: the same user or a refusal.
  if (!inserted) throw new AppError(409, 'CONFLICT', { reason: 'concurrent first sign-in, retry' });
  await writeAudit(tx, tenantId, audit, {
    eventType: outcome === 'linked' ? 'sso.identity_linked' : 'sso.identity_created',
    resourceType: 'user',
    resourceId: user.id,
    metadata: {
      connection_id: src.connectionId,
      provider: src.provider,
      issuer: id.issuer,
      subject: id.subject,
    },
  });
  return { user, outcome };
}

/**
 * THE sign-in completion: finds, links or creates the user, audits, and returns a one-time code (60 s, single
 * use) for the client's redirect_uri. Throws an AppError (audited by failSignIn) when the sign-in is refused.
 */
export async function completeSsoSignIn(
  ctx: AppContext,
  id: VerifiedIdentity,
  audit: AuditContext,
): Promise<string> {
  const src = sourceOf(id.source);
  const { user } = await retryOnceIfRaced(() => signInTx(ctx, id, audit));
  const code = randomToken();
  const pending: PendingCode = {
    tenantId: id.tenantId,
    userId: user.id,
    connectionId: src.connectionId,
    provider: src.provider,
    trustMfa: src.trustMfa,
  };
  await ctx.store.set(codeKey(code), JSON.stringify(pending), CODE_TTL_SECONDS);
  return code;
}

/** One attempt at finding, linking or creating the user, and auditing the success, in one tenant transaction. */
function signInTx(ctx: AppContext, id: VerifiedIdentity, audit: AuditContext) {
  const src = sourceOf(id.source);
  return ctx.database.withTenant(id.tenantId, async (tx) => {
    const tenant = await getTenant(tx, id.tenantId);
    if (tenant?.status !== 'active') throw ssoError('SSO_CONNECTION_DISABLED', { reason: 'tenant_inactive' });
    const found = await linkOrCreate(ctx, tx, id, audit);
    if (!found.user.isActive) throw forbidden('ACCOUNT_INACTIVE');
    // sso_required (issue 18): a user of a domain that requires another way in is refused, and the link or
    // account this sign-in just made rolls back with the transaction.
    await assertSignInAllowed(tx, tenant, found.user, src);
    await writeAudit(
      tx,
      id.tenantId,
      { ...audit, actorType: 'user', actorId: String(found.user.id) },
      {
        eventType: 'sso.login_succeeded',
        resourceType: src.connectionId ? 'sso_connection' : 'oauth_provider',
        resourceId: src.connectionId ?? src.provider,
        metadata: {
          user_id: found.user.id,
          outcome: found.outcome,
          issuer: id.issuer,
          subject: id.subject,
          mfa_asserted: id.mfaAsserted ?? false,
          trust_mfa: src.trustMfa,
        },
      },
    );
    return found;
  });
}

/** Throws SSO_REQUIRED (403, details.connection_id) when the user's domain requires SSO through another connection. */
async function assertSignInAllowed(
  tx: Tx,
  tenant: { id: number; isPlatform: boolean },
  user: UserRow,
  src: ReturnType<typeof sourceOf>,
) {
  const refusal = await signInRefusal(tx, tenant, user, viaOf(src));
  if (refusal) throw new AppError(refusal.status, refusal.code, refusal.details);
}

/** How a session opened by this source is recorded (sessions.sign_in_method, sso_connection_id). */
const viaOf = (src: { connectionId: string | null; provider: string }) =>
  src.connectionId
    ? { method: 'sso', ssoConnectionId: src.connectionId }
    : { method: `oauth:${src.provider}`, ssoConnectionId: null };

/**
 * Two first sign-ins of the same identity at once (a double click, two tabs) both miss the identity, then one
 * commits and the other hits its unique key (or the users' email key). The loser's transaction rolled back
 * whole, so running it again finds the winner's identity: both people get in, as they would one after the other.
 */
async function retryOnceIfRaced<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    const raced =
      (err instanceof AppError &&
        err.statusCode === 409 &&
        ['CONFLICT', 'EMAIL_ALREADY_EXISTS'].includes(err.code)) ||
      (err as { code?: unknown; cause?: { code?: unknown } }).code === '23505' ||
      (err as { cause?: { code?: unknown } }).cause?.code === '23505';
    if (!raced) throw err;
    return attempt();
  }
}

/** The error code a failure reports on the redirect and in the audit record. */
export function failureCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  return 'SSO_RESPONSE_INVALID';
}

/** Audits a refused SSO sign-in in the flow's tenant (best effort: the caller is already answering an error). */
export async function auditSignInFailure(
  ctx: AppContext,
  tenantId: number,
  audit: AuditContext,
  meta: { connectionId?: string | null; provider?: string; code: string; reason?: string },
): Promise<void> {
  await writeAuditAlone(
    ctx,
    tenantId,
    audit,
    {
      eventType: 'sso.login_failed',
      success: false,
      resourceType: meta.connectionId ? 'sso_connection' : 'oauth_provider',
      resourceId: meta.connectionId ?? meta.provider ?? null,
      metadata: { error: meta.code, ...(meta.reason ? { reason: meta.reason.slice(0, 300) } : {}) },
    },
    { bestEffort: 'could not audit a failed SSO sign-in' },
  );
}

/** Whether the caller is a program that wants the JSON envelope rather than a browser redirect. */
function wantsJson(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/html');
}

export function redirectWith(reply: FastifyReply, redirectUri: string, params: Record<string, string>) {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return reply.code(302).header('location', url.toString()).header('cache-control', 'no-store').send();
}

/** Success of a callback: the one-time code on the flow's redirect_uri (JSON clients get `{redirect_uri, code}`). */
export function redirectWithCode(req: FastifyRequest, reply: FastifyReply, flow: FlowState, code: string) {
  if (wantsJson(req))
    return reply.header('cache-control', 'no-store').send({ redirect_uri: flow.redirectUri, code });
  return redirectWith(reply, flow.redirectUri, { code });
}

/**
 * Failure of a callback: audited in the flow's tenant; then a redirect to the flow's redirect_uri with
 * `?error=<CODE>` (never a code) when the flow is known, else (or for JSON clients) the error envelope.
 */
export async function failFlow(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  flow: Pick<FlowState, 'tenantId' | 'connectionId' | 'redirectUri'> | null,
  err: unknown,
): Promise<never | FastifyReply> {
  const code = failureCode(err);
  if (!(err instanceof AppError)) ctx.log.warn({ err }, 'SSO callback failed');
  if (flow) {
    await auditSignInFailure(ctx, flow.tenantId, req.auditContext(), {
      connectionId: flow.connectionId,
      code,
      reason: (err as { reason?: string }).reason ?? (err instanceof Error ? err.message : undefined),
    });
    if (!wantsJson(req)) return redirectWith(reply, flow.redirectUri, { error: code });
  }
  throw err instanceof AppError ? err : ssoError('SSO_RESPONSE_INVALID');
}

/** POST /sso/token: the one-time code (single use, any replica) for the answer of a password sign-in. */
export async function exchangeCode(
  ctx: AppContext,
  code: string,
  client: ClientInfo,
  audit: AuditContext,
): Promise<LoginResponse> {
  const raw = await ctx.store.take(codeKey(code));
  if (!raw) throw ssoError('SSO_CODE_INVALID');
  const pending = JSON.parse(raw) as PendingCode;
  const found = await ctx.database.withTenant(pending.tenantId, async (tx) => {
    const tenant = await getTenant(tx, pending.tenantId);
    const user = await userById(tx, pending.tenantId, pending.userId);
    const mfa = user ? await ctx.mfa.status(tx, pending.tenantId, user.id) : null;
    return { tenant, user, mfa };
  });
  const { tenant, user, mfa } = found;
  const userAudit = { ...audit, actorType: 'user' as const, actorId: String(pending.userId) };
  const refuse = async (code: SsoErrorCode | 'ACCOUNT_INACTIVE') => {
    await auditSignInFailure(ctx, pending.tenantId, userAudit, {
      connectionId: pending.connectionId,
      provider: pending.provider,
      code,
      reason: 'token_exchange',
    });
    return code === 'ACCOUNT_INACTIVE' ? forbidden('ACCOUNT_INACTIVE') : ssoError(code);
  };
  if (tenant?.status !== 'active' || !user) throw await refuse('SSO_CODE_INVALID');
  // Deactivated between the callback and the exchange.
  if (!user.isActive) throw await refuse('ACCOUNT_INACTIVE');
  const method = pending.connectionId ? 'sso' : `oauth:${pending.provider}`;
  const via = viaOf(pending);
  if (!pending.trustMfa && mfa!.enabled)
    return mfaRequiredResponse(
      ctx,
      tenant,
      user,
      userAudit,
      { method, connection_id: pending.connectionId },
      via,
    );
  const enrolmentPending = !pending.trustMfa && mfa!.required;
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, {
    method,
    mfaEnrolmentPending: enrolmentPending,
    via,
  });
  return loginResponse(tokens, enrolmentPending ? 'auth.login_mfa_enrolment' : 'auth.login_success');
}
