import type { OAuthProviderId } from '../../../config.js';
import { randomToken, sha256Hex } from '../../../platform/crypto/tokens.js';
import type { SsoDeps } from '../deps.js';
import type { OidcIdentity } from '../oidc/relying-party.js';

// Store keys name a hash of the secret, never the secret itself. (The sign-in flow itself is the one flow state
// of every protocol: ../flows.ts.)
const hashed = sha256Hex;
const registrationKey = (token: string) => `oauth:reg:${hashed(token)}`;

export const REGISTRATION_TTL_SECONDS = 600;

export const newToken = () => randomToken();

/** What the provider verified, kept until the person completes their registration. */
export interface PendingRegistration extends OidcIdentity {
  tenantId: number;
  provider: OAuthProviderId;
}

export async function saveRegistration(ctx: SsoDeps, pending: PendingRegistration): Promise<string> {
  const token = newToken();
  await ctx.store.set(registrationKey(token), JSON.stringify(pending), REGISTRATION_TTL_SECONDS);
  return token;
}

/**
 * A pending step kept in the store as JSON. `take`: removed as it is read (Redis GETDEL), so of two uses at once,
 * on any replica, exactly one gets it; otherwise only read (to check a body before the single use).
 */
async function pending<T>(ctx: SsoDeps, key: string, take: boolean): Promise<T | null> {
  const raw = await (take ? ctx.store.take(key) : ctx.store.get(key));
  return raw ? (JSON.parse(raw) as T) : null;
}

export const takeRegistration = (ctx: SsoDeps, token: string) =>
  pending<PendingRegistration>(ctx, registrationKey(token), true);

/** Reads a pending registration without using it (to check a body before the single use). */
export const peekRegistration = (ctx: SsoDeps, token: string) =>
  pending<PendingRegistration>(ctx, registrationKey(token), false);

// ---- a typed address awaiting its mailbox's confirmation (issue 18, finding 5) ----

const verificationKey = (token: string) => `oauth:regv:${hashed(token)}`;

/** How long the confirmation link of a typed address works. */
export const VERIFICATION_TTL_SECONDS = 1800;

/**
 * A registration whose address the person typed (or the provider did not verify): kept, under the same
 * oauth_session_token, with the SHA-256 of the token mailed to that address. No account exists yet.
 */
export interface PendingVerification extends PendingRegistration {
  email: string;
  verificationHash: string;
}

export async function saveVerification(
  ctx: SsoDeps,
  oauthSessionToken: string,
  pending: PendingVerification,
): Promise<void> {
  await ctx.store.set(verificationKey(oauthSessionToken), JSON.stringify(pending), VERIFICATION_TTL_SECONDS);
}

export const peekVerification = (ctx: SsoDeps, oauthSessionToken: string) =>
  pending<PendingVerification>(ctx, verificationKey(oauthSessionToken), false);

/** Removes it as it is read: of two confirmations at once (any replica), one gets it. */
export const takeVerification = (ctx: SsoDeps, oauthSessionToken: string) =>
  pending<PendingVerification>(ctx, verificationKey(oauthSessionToken), true);
