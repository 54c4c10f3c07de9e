import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { writeAuditAlone } from '../../platform/audit/alone.js';
import { type AuditContext, writeAudit } from '../../platform/audit/writer.js';
import { randomToken, safeEqual, sha256Hex } from '../../platform/crypto/tokens.js';
import type { Tx } from '../../platform/db/client.js';
import { pgErrorOf } from '../../platform/db/errors.js';
import { AppError, platformErrors } from '../../platform/http/errors.js';
import { completeLogin, type LoginResponse, loginResponse, mfaRequiredResponse } from '../auth/index.js';
import { grantRoleByCode, userGrantProfile, userRoleRequiresMfaSql } from '../rbac/index.js';
import type { ClientInfo } from '../sessions/index.js';
import { getTenant } from '../tenants/index.js';
import { createUserInTx, prepareUser, type UserRow, userByEmail, userById } from '../users/index.js';
import { type Ceiling, ceilingExceeded, ceilingOf, defaultRoleExceeded, isPrivileged } from './ceiling.js';
import type { SsoDeps } from './deps.js';
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
  /** The display name, when the provider gives one (social login answers it). */
  name?: string | null;
  /** The identity provider says it performed MFA (OIDC amr, SAML AuthnContext); recorded, see trust_mfa. */
  mfaAsserted?: boolean;
  /** SAML: every attribute of the signed assertion (shown by a connection test, ./connection-test.ts). */
  attributes?: { name: string; friendlyName: string | null; values: string[] }[];
}

/** What a protocol read about the person (ID token claims, a signed assertion, a provider's API). */
export type ProtocolIdentity = Pick<VerifiedIdentity, 'issuer' | 'subject' | 'email' | 'emailVerified'> &
  Partial<Pick<VerifiedIdentity, 'givenName' | 'familyName' | 'name' | 'mfaAsserted' | 'attributes'>>;

/** A verify strategy's result: what the protocol verified, for the flow's tenant and identity source. */
export function verifiedIdentity(
  tenantId: number,
  source: IdentitySource,
  i: ProtocolIdentity,
): VerifiedIdentity {
  return { tenantId, source, ...identityFields(i), ...(i.attributes ? { attributes: i.attributes } : {}) };
}

/** What the protocol verified about the person, every optional claim made explicit (null, false). */
export function identityFields(i: ProtocolIdentity) {
  return {
    issuer: i.issuer,
    subject: i.subject,
    email: i.email,
    emailVerified: i.emailVerified,
    name: i.name ?? null,
    givenName: i.givenName ?? null,
    familyName: i.familyName ?? null,
    mfaAsserted: i.mfaAsserted === true,
  };
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
  /** The client's PKCE S256 challenge from authorize: the code is then redeemed only with its verifier. */
  codeChallenge?: string;
  /** The IdP asserted a second factor (OIDC amr, SAML AuthnContextClassRef): trust_mfa needs it (issue 18). */
  mfaAsserted?: boolean;
}

export const sourceOf = (s: IdentitySource) =>
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

/** The refusal of a sign-in through an identity already linked, when the connection's ceiling no longer covers it. */
async function assertWithinCeiling(ctx: SsoDeps, tx: Tx, tenantId: number, ceiling: Ceiling, userId: number) {
  const over = ceilingExceeded(ceiling, await userGrantProfile(ctx, tx, tenantId, userId));
  if (over) throw ssoError('SSO_GRANT_CEILING_EXCEEDED', { user_id: userId, ...over });
}

async function linkOrCreate(ctx: SsoDeps, tx: Tx, id: VerifiedIdentity, audit: AuditContext) {
  const src = sourceOf(id.source);
  const { tenantId } = id;
  // Enterprise connections are bounded by what their last editor could grant (./ceiling.ts); social providers
  // are the operator's configuration, not a tenant admin's.
  const ceiling = id.source.kind === 'connection' ? await ceilingOf(ctx, tx, id.source.connection) : null;
  const existing = await repo.findIdentity(tx, tenantId, src, id.issuer, id.subject);
  if (existing) {
    const user = await userById(tx, tenantId, existing.userId);
    if (!user) throw ssoError('SSO_USER_NOT_PROVISIONED');
    // The editor may since have swapped the IdP's certificate or secret: an identity linked earlier signs in only
    // an account the connection could still grant.
    if (ceiling) await assertWithinCeiling(ctx, tx, tenantId, ceiling, user.id);
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
  let invitation: Record<string, unknown> = {};
  if (local) {
    // Linking an existing account by email (API.md §17 rules, issue 18 item 3). An enterprise connection's IdP
    // is chosen by a tenant admin, so its own email_verified proves nothing: only a domain verified for THIS
    // connection does. Owners, superusers and platform operators link themselves (link mode), never by email.
    const profile = await userGrantProfile(ctx, tx, tenantId, local.id);
    const over = ceiling ? ceilingExceeded(ceiling, profile) : null;
    const reasons: string[] = [];
    if (src.connectionId ? !domainVerified : !id.emailVerified)
      reasons.push(src.connectionId ? 'domain_not_verified' : 'idp_email_not_verified');
    if (!local.isVerified) reasons.push('local_email_not_verified');
    if (isPrivileged(profile)) reasons.push('privileged_account');
    // (A privileged account is reported as such above; this is about permissions.)
    if (over && over.missing.length > 0) reasons.push('grant_ceiling');
    if (reasons.length > 0)
      throw ssoError('SSO_LINK_REFUSED', {
        reasons,
        idp_email_verified: id.emailVerified,
        domain_verified: domainVerified,
        local_email_verified: local.isVerified,
        ...(over ? { missing: over.missing } : {}),
      });
    user = local;
    outcome = 'linked';
  } else {
    // A pending invitation of the address (issue 20) is accepted by this first sign-in, through a connection only
    // and only for a domain verified for it: a tenant admin's IdP vouches for nothing else. The invitation stands
    // in for just-in-time provisioning (an admin asked for this person), and its roles were bounded by the
    // inviter when invited.
    const invited = src.connectionId && domainVerified ? await invitedSignUp(ctx, tx, tenantId, email) : null;
    if (!src.jit && !invited) throw ssoError('SSO_USER_NOT_PROVISIONED');
    if (ceiling) {
      // The default role is read now: the role may have been edited since the connection was saved.
      const over = await defaultRoleExceeded(tx, tenantId, ceiling, src.defaultRole);
      if (over) throw ssoError('SSO_GRANT_CEILING_EXCEEDED', over);
    }
    const prepared = await prepareUser(
      ctx,
      {
        email,
        password: null,
        firstName: id.givenName ?? null,
        lastName: id.familyName ?? null,
        isActive: true,
        isSuperuser: false,
        // The same rule as linking: for an enterprise connection only a verified domain vouches for the address.
        isVerified: src.connectionId ? domainVerified : id.emailVerified,
      },
      null,
    );
    user = await createUserInTx(ctx, tx, tenantId, prepared, {
      source: 'sso',
      audit,
      metadata: { connection_id: src.connectionId, provider: src.provider },
    });
    await grantRoleByCode(tx, tenantId, user.id, src.defaultRole);
    if (invited)
      invitation = { invitation_id: invited.invitationId, ...(await invited.accept(user.id, audit)) };
    outcome = 'created';
  }
  const inserted = await repo.insertIdentity(tx, tenantId, user.id, src, id, email);
  // A concurrent first sign-in of the same identity inserted it first: the same user or a refusal.
  if (!inserted) throw platformErrors.error('CONFLICT', { reason: 'concurrent first sign-in, retry' });
  await writeAudit(tx, tenantId, audit, {
    eventType: outcome === 'linked' ? 'sso.identity_linked' : 'sso.identity_created',
    resourceType: 'user',
    resourceId: user.id,
    metadata: {
      connection_id: src.connectionId,
      provider: src.provider,
      issuer: id.issuer,
      subject: id.subject,
      ...(outcome === 'linked' ? { method: 'email' } : {}),
      ...invitation,
    },
  });
  return { user, outcome };
}

/** The pending invitation of the address, when a module holds one (ctx.hooks.invitedSignUp). */
async function invitedSignUp(ctx: SsoDeps, tx: Tx, tenantId: number, email: string) {
  for (const hook of ctx.hooks.invitedSignUp) {
    const found = await hook(tx, tenantId, email);
    if (found) return found;
  }
  return null;
}

/**
 * THE sign-in completion: finds, links or creates the user, audits, and returns a one-time code (60 s, single
 * use) for the client's redirect_uri. Throws an AppError (audited by failSignIn) when the sign-in is refused.
 */
export async function completeSsoSignIn(
  ctx: SsoDeps,
  id: VerifiedIdentity,
  audit: AuditContext,
  /** The flow's client binding (authorize's code_challenge), carried by the one-time code. */
  binding: Pick<FlowState, 'codeChallenge'> = {},
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
    ...(binding.codeChallenge ? { codeChallenge: binding.codeChallenge } : {}),
    mfaAsserted: id.mfaAsserted === true,
  };
  await ctx.store.set(codeKey(code), JSON.stringify(pending), CODE_TTL_SECONDS);
  return code;
}

/** One attempt at finding, linking or creating the user, and auditing the success, in one tenant transaction. */
function signInTx(ctx: SsoDeps, id: VerifiedIdentity, audit: AuditContext) {
  const src = sourceOf(id.source);
  return ctx.database.withTenant(id.tenantId, async (tx) => {
    const tenant = await getTenant(tx, id.tenantId);
    if (tenant?.status !== 'active') throw ssoError('SSO_CONNECTION_DISABLED', { reason: 'tenant_inactive' });
    const found = await linkOrCreate(ctx, tx, id, audit);
    if (!found.user.isActive) throw platformErrors.error('ACCOUNT_INACTIVE');
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
      pgErrorOf(err)?.code === '23505';
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
  ctx: SsoDeps,
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

/**
 * RFC 7636 §4.6 for the one-time code: why the verifier does not redeem it, or null when it does. A code whose
 * flow had no challenge refuses a verifier too (RFC 9700 §2.1.1: a stripped challenge must not go unnoticed).
 * The comparison is constant-time over the 43-character base64url S256 values.
 */
function pkceRefusal(challenge: string | undefined, verifier: string | undefined): string | null {
  if (challenge === undefined) return verifier === undefined ? null : 'code_verifier without code_challenge';
  if (verifier === undefined) return 'code_verifier missing';
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  return safeEqual(computed, challenge) ? null : 'code_verifier mismatch';
}

/**
 * POST /sso/token: the one-time code (single use, any replica) for the answer of a password sign-in. A code bound
 * by the client's code_challenge needs the matching code_verifier; a refused verifier still spends the code.
 */
/** Whether one of the user's active roles requires MFA (rbac's rule, read in the caller's transaction). */
async function roleRequiresMfa(tx: Tx, tenantId: number, userId: number): Promise<boolean> {
  const r = await tx.execute<{ required: boolean }>(
    sql`select ${userRoleRequiresMfaSql(tenantId, userId)} as required`,
  );
  return r.rows[0]?.required === true;
}

/** POST /sso/token: the one-time code (single use, any replica) for the answer of a password sign-in. */
export async function exchangeCode(
  ctx: SsoDeps,
  code: string,
  client: ClientInfo,
  audit: AuditContext,
  codeVerifier?: string,
): Promise<LoginResponse> {
  const raw = await ctx.store.take(codeKey(code));
  if (!raw) throw ssoError('SSO_CODE_INVALID');
  const pending = JSON.parse(raw) as PendingCode;
  const unbound = pkceRefusal(pending.codeChallenge, codeVerifier);
  if (unbound) {
    // The same answer as an unknown code: whoever holds a leaked code learns nothing about the binding.
    await auditSignInFailure(
      ctx,
      pending.tenantId,
      { ...audit, actorType: 'user', actorId: String(pending.userId) },
      {
        connectionId: pending.connectionId,
        provider: pending.provider,
        code: 'SSO_CODE_INVALID',
        reason: unbound,
      },
    );
    throw ssoError('SSO_CODE_INVALID');
  }
  const found = await ctx.database.withTenant(pending.tenantId, async (tx) => {
    const tenant = await getTenant(tx, pending.tenantId);
    const user = await userById(tx, pending.tenantId, pending.userId);
    const mfa = user ? await ctx.mfa.status(tx, pending.tenantId, user.id) : null;
    const mfaByRole = user ? await roleRequiresMfa(tx, pending.tenantId, user.id) : false;
    return { tenant, user, mfa, mfaByRole };
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
    return code === 'ACCOUNT_INACTIVE' ? platformErrors.error('ACCOUNT_INACTIVE') : ssoError(code);
  };
  if (tenant?.status !== 'active' || !user) throw await refuse('SSO_CODE_INVALID');
  // Deactivated between the callback and the exchange.
  if (!user.isActive) throw await refuse('ACCOUNT_INACTIVE');
  const method = pending.connectionId ? 'sso' : `oauth:${pending.provider}`;
  const via = viaOf(pending);
  // trust_mfa stands in for the MFA step only when the IdP said it did a second factor, and never for an account
  // whose role requires MFA: that rule is MassaCorp's, an IdP the tenant admin picked cannot waive it (issue 18).
  const mfaTrusted = pending.trustMfa && pending.mfaAsserted === true && !found.mfaByRole;
  if (!mfaTrusted && mfa!.enabled)
    return mfaRequiredResponse(
      ctx,
      tenant,
      user,
      userAudit,
      { method, connection_id: pending.connectionId },
      via,
    );
  const enrolmentPending = !mfaTrusted && mfa!.required;
  const tokens = await completeLogin(ctx, tenant, user, client, userAudit, {
    method,
    mfaEnrolmentPending: enrolmentPending,
    via,
  });
  return loginResponse(tokens, enrolmentPending ? 'auth.login_mfa_enrolment' : 'auth.login_success');
}
