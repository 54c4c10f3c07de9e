/**
 * Social login (API.md §9) on the SSO machinery: the OpenID relying party of ../oidc/relying-party.ts (google,
 * microsoft, the generic `oidc`), GitHub's plain OAuth 2 (./github.ts), and the sign-in completion every external
 * sign-in shares (../signin.ts completeSsoSignIn: identities keyed by (tenant, provider, issuer, subject),
 * linking only with a provider-verified AND locally verified email, audit). Unlike /sso, the callback answers
 * the tokens itself (the existing API): the one-time code of completeSsoSignIn is exchanged at once.
 *
 * Sign-up policy (docs/api-decisions.md): an unknown person gets an account only if the tenant allows
 * self-registration; then at the callback when OAUTH_AUTO_REGISTER is on and the provider verified the email,
 * otherwise through requires_registration and POST /complete-registration. New accounts get OAUTH_DEFAULT_ROLE.
 */

import type { OAuthProviderConfig, OAuthProviderId } from '../../../config.js';
import { writeAuditAlone } from '../../../platform/audit/alone.js';
import { type AuditContext, writeAudit } from '../../../platform/audit/writer.js';
import { AppError, platformErrors, validationError } from '../../../platform/http/errors.js';
import type { LoginResponse } from '../../auth/index.js';
import type { ClientInfo } from '../../sessions/index.js';
import { getTenant, resolveSettings, resolveTenantHeader } from '../../tenants/index.js';
import { userById } from '../../users/index.js';
import {
  type CallbackInput,
  type CallbackOutcome,
  type Completion,
  refusal,
  runCallback,
  type VerifyStrategy,
} from '../callback.js';
import type { SsoDeps } from '../deps.js';
import { ssoError } from '../errors.js';
import { type FlowState, type LinkTarget, newState, saveFlowState } from '../flows.js';
import { assertAnotherWayIn, linkToCaller } from '../identities.js';
import {
  beginAuthorization,
  finishAuthorization,
  type OidcIdentity,
  type PendingAuthorization,
} from '../oidc/relying-party.js';
import {
  auditSignInFailure,
  completeSsoSignIn,
  exchangeCode,
  failureCode,
  identityFields,
  type VerifiedIdentity,
  verifiedIdentity,
} from '../signin.js';
import { socialError } from './errors.js';
import { type PendingRegistration, peekRegistration, saveRegistration, takeRegistration } from './flow.js';
import { githubAuthorize, githubFinish } from './github.js';
import * as repo from './repository.js';
import { assertNotSsoRequired, mailVerification, takeVerified } from './verification.js';

export interface OAuthCallbackResult {
  success: boolean;
  access_token: string | null;
  refresh_token: string | null;
  token_type: 'bearer' | null;
  expires_in: number | null;
  requires_registration: boolean;
  oauth_session_token: string | null;
  provider: OAuthProviderId;
  email: string | null;
  name: string | null;
  mfa_required: boolean;
  mfa_session_token: string | null;
  /** Link mode only: the identity was linked to the caller. */
  linked?: boolean;
  email_verification_required: boolean;
}

export function configuredProvider(ctx: SsoDeps, provider: string): OAuthProviderConfig {
  const p = ctx.config.oauth.providers.find((x) => x.provider === provider);
  if (!p) throw socialError('OAUTH_PROVIDER_NOT_CONFIGURED');
  return p;
}

export function listProviders(ctx: SsoDeps) {
  return {
    providers: ctx.config.oauth.providers.map((p) => ({ provider: p.provider, name: p.name, enabled: true })),
  };
}

const rpSettings = (p: OAuthProviderConfig) => ({
  issuer: p.issuer,
  clientId: p.clientId,
  clientSecret: p.clientSecret,
  redirectUri: p.redirectUri,
  scope: p.scope,
});

/** How a provider's sign-in starts and how its answer is read: OpenID Connect, or GitHub's plain OAuth 2. */
interface SocialProtocol {
  begin(
    ctx: SsoDeps,
    p: OAuthProviderConfig,
    state: string,
  ): Promise<{ authUrl: string; pending: PendingAuthorization }>;
  finish(
    ctx: SsoDeps,
    p: OAuthProviderConfig,
    rawQuery: string,
    expected: PendingAuthorization & { state: string },
  ): Promise<OidcIdentity>;
}

const openIdProtocol: SocialProtocol = {
  begin: (ctx, p, state) => beginAuthorization(ctx, rpSettings(p), state),
  async finish(ctx, p, rawQuery, expected) {
    const identity = await finishAuthorization(ctx, rpSettings(p), rawQuery, expected);
    // The library checked iss against the discovered issuer; google and oidc must also be the configured one.
    // (Microsoft: the discovered issuer of a domain tenant is its id form, see docs/configuration.md.)
    if (p.provider !== 'microsoft' && identity.issuer !== p.issuer) throw ssoError('SSO_ISSUER_MISMATCH');
    return identity;
  },
};

const githubProtocol: SocialProtocol = { begin: githubAuthorize, finish: githubFinish };

const protocolOf = (p: OAuthProviderConfig) => (p.github ? githubProtocol : openIdProtocol);

/** The flow type of a provider's sign-ins (FlowState.type). */
const flowType = (provider: OAuthProviderId) => `oauth:${provider}`;

export async function authorize(
  ctx: SsoDeps,
  tenantHeader: string | string[] | undefined,
  provider: OAuthProviderId,
  /** Link mode: the signed-in caller (their tenant is the token's, not the header's). */
  link?: LinkTarget & { tenantId: number },
): Promise<{ auth_url: string; state: string }> {
  const tenant = link ? { id: link.tenantId } : await resolveTenantHeader(ctx, tenantHeader);
  const p = configuredProvider(ctx, provider);
  if (!tenant) throw platformErrors.error('UNAUTHORIZED');
  const state = newState();
  const { authUrl, pending } = await protocolOf(p).begin(ctx, p, state);
  await saveFlowState(ctx, state, {
    tenantId: tenant.id,
    type: flowType(provider),
    connectionId: null,
    provider,
    // Social login answers on its own callback (JSON): no redirect_uri.
    redirectUri: null,
    data: { codeVerifier: pending.codeVerifier, nonce: pending.nonce },
    createdAt: ctx.clock.now(),
    ...(link ? { link: { userId: link.userId, sessionId: link.sessionId } } : {}),
  });
  return { auth_url: authUrl, state };
}

const displayName = (i: Pick<OidcIdentity, 'name' | 'givenName' | 'familyName'>) =>
  i.name ?? ([i.givenName, i.familyName].filter(Boolean).join(' ') || null);

function fromLogin(r: LoginResponse, provider: OAuthProviderId, email: string | null, name: string | null) {
  return {
    success: r.success,
    access_token: r.access_token,
    refresh_token: r.refresh_token,
    token_type: r.access_token ? r.token_type : null,
    expires_in: r.expires_in,
    requires_registration: false,
    oauth_session_token: null,
    provider,
    email,
    name,
    mfa_required: r.mfa_required,
    mfa_session_token: r.mfa_session_token,
    email_verification_required: false,
  } satisfies OAuthCallbackResult;
}

/**
 * A successful answer that carries no token (registration needed, a mailed link awaited, an identity linked):
 * every key present, as the existing clients expect, with what differs given by the caller.
 */
function tokenless(
  provider: OAuthProviderId,
  email: string | null,
  name: string | null,
  over: Partial<
    Pick<
      OAuthCallbackResult,
      'requires_registration' | 'oauth_session_token' | 'email_verification_required' | 'linked'
    >
  >,
): OAuthCallbackResult {
  return {
    success: true,
    access_token: null,
    refresh_token: null,
    token_type: null,
    expires_in: null,
    requires_registration: false,
    oauth_session_token: null,
    provider,
    email,
    name,
    mfa_required: false,
    mfa_session_token: null,
    email_verification_required: false,
    ...over,
  };
}

/** What the provider proved about the person, as the sign-in completion every external sign-in shares takes it. */
function verifiedBy(
  ctx: SsoDeps,
  p: OAuthProviderConfig,
  tenantId: number,
  identity: Omit<PendingRegistration, 'tenantId' | 'provider'>,
  jit: boolean,
): VerifiedIdentity {
  const source = {
    kind: 'provider' as const,
    provider: p.provider,
    jitProvisioning: jit,
    defaultRole: ctx.config.oauth.defaultRole,
    trustMfa: p.trustMfa,
  };
  return verifiedIdentity(tenantId, source, identity);
}

/** The person proved at the provider becomes a user of the tenant (or is refused), then gets tokens or the MFA step. */
async function signIn(
  ctx: SsoDeps,
  p: OAuthProviderConfig,
  tenantId: number,
  identity: Omit<PendingRegistration, 'tenantId' | 'provider'>,
  jit: boolean,
  client: ClientInfo,
  audit: AuditContext,
): Promise<OAuthCallbackResult> {
  const code = await completeSsoSignIn(ctx, verifiedBy(ctx, p, tenantId, identity, jit), audit);
  const r = await exchangeCode(ctx, code, client, audit);
  return fromLogin(r, p.provider, identity.email, displayName(identity));
}

async function selfRegistration(ctx: SsoDeps, tenantId: number): Promise<boolean> {
  const tenant = await ctx.database.withTenant(tenantId, (tx) => getTenant(tx, tenantId));
  return tenant?.status === 'active' && resolveSettings(tenant.settings, ctx.config).self_registration;
}

const failureReason = (err: unknown) =>
  (err as { reason?: string }).reason ?? (err instanceof Error ? err.message : undefined);

/** What the provider verified, as the social completion and a pending registration keep it. */
const identityOf = (id: VerifiedIdentity): Omit<PendingRegistration, 'tenantId' | 'provider'> =>
  identityFields(id);

/**
 * How a social sign-in ends (the existing API answers on the callback itself, JSON): in link mode the identity
 * joins the caller's account (no token); otherwise tokens or the MFA step, or, for an unknown person the tenant
 * lets register, requires_registration with an oauth_session_token. A failure is the error envelope.
 */
function socialCompletion(p: OAuthProviderConfig): Completion {
  return {
    async complete(ctx, flow, id, input): Promise<CallbackOutcome> {
      const identity = identityOf(id);
      if (flow.link) {
        await linkToCaller(ctx, id, flow.link, input.audit);
        return { json: tokenless(p.provider, identity.email, displayName(identity), { linked: true }) };
      }
      return { json: await signInOrRegister(ctx, p, flow, identity, input) };
    },
    failure: () => null,
  };
}

async function signInOrRegister(
  ctx: SsoDeps,
  p: OAuthProviderConfig,
  flow: FlowState,
  identity: Omit<PendingRegistration, 'tenantId' | 'provider'>,
  { client, audit }: CallbackInput,
): Promise<OAuthCallbackResult> {
  const mayRegister = await selfRegistration(ctx, flow.tenantId);
  const auto = ctx.config.oauth.autoRegister && mayRegister && identity.emailVerified && !!identity.email;
  try {
    return await signIn(ctx, p, flow.tenantId, identity, auto, client, audit);
  } catch (err) {
    const unknownPerson =
      err instanceof AppError &&
      (err.code === 'SSO_USER_NOT_PROVISIONED' || err.code === 'SSO_EMAIL_MISSING');
    if (!(unknownPerson && mayRegister)) throw err;
  }
  // No sign-up offered in a domain that requires SSO (issue 18).
  await assertNotSsoRequired(ctx, flow.tenantId, identity.email);
  const token = await saveRegistration(ctx, { tenantId: flow.tenantId, provider: p.provider, ...identity });
  await writeAuditAlone(ctx, flow.tenantId, audit, {
    eventType: 'oauth.registration_required',
    resourceType: 'oauth_provider',
    resourceId: p.provider,
    metadata: {
      issuer: identity.issuer,
      subject: identity.subject,
      email_verified: identity.emailVerified,
    },
  });
  return tokenless(p.provider, identity.email, displayName(identity), {
    requires_registration: true,
    oauth_session_token: token,
  });
}

/** The verify strategy of a social provider: its protocol redeems the code with the flow's PKCE (and nonce). */
function socialStrategy(p: OAuthProviderConfig): VerifyStrategy {
  return {
    type: flowType(p.provider),
    provider: p.provider,
    completion: socialCompletion(p),
    foreignFlow: () => refusal(ssoError('SSO_STATE_INVALID'), 'state of another provider'),
    async verify(ctx, flow, input) {
      const data = flow.data as unknown as PendingAuthorization;
      const identity = await protocolOf(p).finish(ctx, p, input.answer, {
        codeVerifier: data.codeVerifier,
        nonce: data.nonce,
        state: input.state!,
      });
      return verifiedBy(ctx, p, flow.tenantId, identity, false);
    },
  };
}

/** GET /oauth/{provider}/callback: the one callback flow (../callback.ts) with the provider's strategy. */
export async function callback(
  ctx: SsoDeps,
  provider: OAuthProviderId,
  input: CallbackInput,
): Promise<CallbackOutcome> {
  // An unconfigured provider is a 404 before the state is spent.
  const p = configuredProvider(ctx, provider);
  return runCallback(ctx, socialStrategy(p), input);
}

/**
 * POST /oauth/complete-registration: creates the account of a pending registration (single use) when the
 * provider verified the address; otherwise mails the address a link first (202, nothing created; see
 * verification.ts), and the second call, with the mailed `verification_token`, creates it.
 */
export async function completeRegistration(
  ctx: SsoDeps,
  body: {
    oauth_session_token: string;
    email?: string;
    first_name?: string;
    last_name?: string;
    verification_token?: string;
  },
  client: ClientInfo,
  audit: AuditContext,
): Promise<OAuthCallbackResult> {
  if (body.verification_token !== undefined) return confirmRegistration(ctx, body, client, audit);
  // The body is checked against the pending registration before its single use: a 422 leaves it usable.
  const peeked = await peekRegistration(ctx, body.oauth_session_token);
  if (!peeked) throw socialError('OAUTH_SESSION_INVALID');
  const providerVerified = peeked.emailVerified && peeked.email !== null;
  if (providerVerified && body.email !== undefined && body.email !== peeked.email)
    throw validationError('body.email', "must be absent or the provider's verified address", 'const');
  const email = providerVerified ? peeked.email : (body.email ?? peeked.email);
  if (!email) throw validationError('body.email', 'is required: the provider gave no address', 'required');
  // Checked before the single use too: a refusal by domain leaves nothing to mail.
  await assertNotSsoRequired(ctx, peeked.tenantId, email);
  const pending = await takeRegistration(ctx, body.oauth_session_token);
  if (!pending) throw socialError('OAUTH_SESSION_INVALID');
  const p = configuredProvider(ctx, pending.provider);
  return registrationStep(ctx, pending, audit, 'complete_registration', async () => {
    if (!providerVerified) {
      // Issue 18 (pre-account hijack): an address nobody proved gets no account and no link until its mailbox
      // confirms. The names typed now are kept for the account.
      const kept = {
        ...pending,
        givenName: body.first_name ?? pending.givenName,
        familyName: body.last_name ?? pending.familyName,
        name: body.first_name || body.last_name ? null : pending.name,
      };
      await mailVerification(ctx, body.oauth_session_token, kept, email, p.name, audit);
      return awaitingVerification(body.oauth_session_token, pending.provider, email, displayName(kept));
    }
    return await signIn(
      ctx,
      p,
      pending.tenantId,
      {
        ...pending,
        email,
        // An address the person typed is not verified, even if it equals an unverified one of the provider.
        emailVerified: providerVerified,
        givenName: body.first_name ?? pending.givenName,
        familyName: body.last_name ?? pending.familyName,
        name: body.first_name || body.last_name ? null : pending.name,
      },
      true,
      client,
      audit,
    );
  });
}

/**
 * A step of social sign-up once its pending registration is spent: refused unless the tenant allows
 * self-registration; any failure is audited as a sign-in failure of `step`, then thrown on.
 */
async function registrationStep(
  ctx: SsoDeps,
  pending: { tenantId: number; provider: OAuthProviderId },
  audit: AuditContext,
  step: string,
  fn: () => Promise<OAuthCallbackResult>,
): Promise<OAuthCallbackResult> {
  try {
    if (!(await selfRegistration(ctx, pending.tenantId))) throw ssoError('SSO_USER_NOT_PROVISIONED');
    return await fn();
  } catch (err) {
    await auditSignInFailure(ctx, pending.tenantId, audit, {
      provider: pending.provider,
      code: failureCode(err),
      reason: `${step}: ${failureReason(err) ?? ''}`,
    });
    throw err;
  }
}

/** The 202 answer of complete-registration: a link went to `email`; nothing exists yet. */
function awaitingVerification(
  oauthSessionToken: string,
  provider: OAuthProviderId,
  email: string,
  name: string | null,
): OAuthCallbackResult {
  return tokenless(provider, email, name, {
    oauth_session_token: oauthSessionToken,
    email_verification_required: true,
  });
}

/**
 * The second complete-registration call: the sign-up's session AND the token mailed to the typed address. The
 * mailbox is proven, so the account is created verified (or, if a verified account of that address appeared
 * meanwhile, linked by the usual rule), with the identity linked, and signed in.
 */
async function confirmRegistration(
  ctx: SsoDeps,
  body: { oauth_session_token: string; verification_token?: string; [k: string]: unknown },
  client: ClientInfo,
  audit: AuditContext,
): Promise<OAuthCallbackResult> {
  const extra = ['email', 'first_name', 'last_name'].find((k) => body[k] !== undefined);
  if (extra)
    throw validationError(`body.${extra}`, 'not allowed with verification_token (given before)', 'const');
  const pending = await takeVerified(ctx, body.oauth_session_token, body.verification_token!);
  const p = configuredProvider(ctx, pending.provider);
  return registrationStep(ctx, pending, audit, 'complete_registration_verified', () =>
    signIn(ctx, p, pending.tenantId, { ...pending, emailVerified: true }, true, client, audit),
  );
}

const providerName = (ctx: SsoDeps, provider: string) =>
  ctx.config.oauth.providers.find((p) => p.provider === provider)?.name ?? provider;

/** GET /oauth/accounts: the caller's linked social accounts. */
export async function accounts(ctx: SsoDeps, tenantId: number, userId: number) {
  return ctx.database.withTenant(tenantId, async (tx) => {
    const user = await userById(tx, tenantId, userId);
    const rows = await repo.socialIdentitiesOfUser(tx, tenantId, userId);
    return {
      accounts: rows.map((r) => ({
        id: r.id,
        provider: r.provider as OAuthProviderId,
        name: providerName(ctx, r.provider),
        email: r.email,
        created_at: r.createdAt.toISOString(),
        last_login_at: r.lastLoginAt?.toISOString() ?? null,
      })),
      total: rows.length,
      has_password: Boolean(user?.passwordHash),
    };
  });
}

/**
 * POST /oauth/unlink: removes the caller's identities of that provider, never the last way in (a password, or
 * another identity, social or enterprise, must remain). The user's row is locked: concurrent unlinks serialise.
 */
export async function unlink(
  ctx: SsoDeps,
  tenantId: number,
  userId: number,
  provider: OAuthProviderId,
  audit: AuditContext,
): Promise<void> {
  const refused = async (err: unknown) => {
    if (err instanceof AppError && err.code === 'OAUTH_LAST_SIGN_IN_METHOD')
      await writeAuditAlone(
        ctx,
        tenantId,
        audit,
        {
          eventType: 'oauth.unlink_refused',
          success: false,
          resourceType: 'user',
          resourceId: userId,
          metadata: { provider, error: err.code },
        },
        { bestEffort: 'could not audit a refused unlink' },
      );
    throw err;
  };
  await ctx.database
    .withTenant(tenantId, async (tx) => {
      await repo.lockUserRow(tx, tenantId, userId);
      const user = await userById(tx, tenantId, userId);
      if (!user) throw socialError('OAUTH_ACCOUNT_NOT_LINKED');
      const all = await repo.lockIdentitiesOfUser(tx, tenantId, userId);
      const mine = all.filter((i) => i.connectionId === null && i.provider === provider);
      if (mine.length === 0) throw socialError('OAUTH_ACCOUNT_NOT_LINKED');
      const others = all.length - mine.length;
      assertAnotherWayIn(user, others);
      const removed = await repo.deleteProviderIdentities(tx, tenantId, userId, provider);
      await writeAudit(tx, tenantId, audit, {
        eventType: 'oauth.identity_unlinked',
        resourceType: 'user',
        resourceId: userId,
        metadata: {
          provider,
          identities: removed.map((i) => ({ issuer: i.issuer, subject: i.subject })),
        },
      });
    })
    .catch(refused);
}
