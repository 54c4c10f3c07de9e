/**
 * A social sign-up with an address the provider did not verify (typed by the person, or the provider's own
 * unverified one) is confirmed by mail BEFORE anything exists (issue 18, finding 5: pre-account hijack).
 *
 * complete-registration then answers 202 `email_verification_required` and mails a link (256-bit token, only
 * its SHA-256 kept, VERIFICATION_TTL_SECONDS, single use) to that address. The account, verified, and the
 * identity link are created only by complete-registration `{oauth_session_token, verification_token}`: BOTH the
 * sign-up's own session (held by whoever proved the social identity) and the mailed token (held by whoever reads
 * the mailbox). An attacker who types a victim's address lacks the second; a victim who clicks a stranger's link
 * lacks the first, so the link alone creates nothing either.
 */

import { writeAuditAlone } from '../../../platform/audit/alone.js';
import type { AuditContext } from '../../../platform/audit/writer.js';
import { randomToken, safeEqual, sha256Hex } from '../../../platform/crypto/tokens.js';
import { AppError } from '../../../platform/http/errors.js';
import { runInBackground } from '../../../platform/mail/background.js';
import { socialSignupVerificationMail } from '../../../platform/mail/templates.js';
import { getTenant } from '../../tenants/index.js';
import type { SsoDeps } from '../deps.js';
import { ssoRequiredRefusal } from '../service.js';
import { socialError } from './errors.js';
import {
  type PendingRegistration,
  type PendingVerification,
  peekVerification,
  saveVerification,
  takeVerification,
  VERIFICATION_TTL_SECONDS,
} from './flow.js';

/**
 * A social sign-up in a domain that requires SSO is refused before anything is offered or mailed (the same
 * 403 SSO_REQUIRED as a password sign-in: it depends on the domain only, so it tells nothing about accounts).
 */
export async function assertNotSsoRequired(ctx: SsoDeps, tenantId: number, email: string | null) {
  if (!email) return;
  const refusal = await ctx.database.withTenant(tenantId, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    return tenant ? ssoRequiredRefusal(tx, tenant, email.toLowerCase()) : null;
  });
  if (refusal) throw new AppError(refusal.status, refusal.code, refusal.details);
}

/**
 * Keeps the (already taken) registration under the same oauth_session_token with the typed address and the hash
 * of a new mailed token; mails the link in the background (the answer does not wait for SMTP); audited.
 */
export async function mailVerification(
  ctx: SsoDeps,
  oauthSessionToken: string,
  pending: PendingRegistration,
  email: string,
  providerName: string,
  audit: AuditContext,
): Promise<void> {
  const token = randomToken();
  const record: PendingVerification = { ...pending, email, verificationHash: sha256Hex(token) };
  await saveVerification(ctx, oauthSessionToken, record);
  await writeAuditAlone(ctx, pending.tenantId, audit, {
    eventType: 'oauth.email_verification_sent',
    resourceType: 'oauth_provider',
    resourceId: pending.provider,
    metadata: {
      email,
      issuer: pending.issuer,
      subject: pending.subject,
      expires_in: VERIFICATION_TTL_SECONDS,
    },
  });
  const link = `${ctx.config.oauthVerifyEmailUrl}?token=${encodeURIComponent(token)}`;
  runInBackground(ctx, 'social sign-up verification mail', () =>
    ctx.mailer.send(socialSignupVerificationMail(email, link, providerName, VERIFICATION_TTL_SECONDS / 60)),
  );
}

/**
 * The registration awaiting this mailed token, used up (single use, any replica). A wrong token leaves it in
 * place (a mistyped paste is not fatal; 256 bits are not guessed and the route is rate limited).
 */
export async function takeVerified(
  ctx: SsoDeps,
  oauthSessionToken: string,
  verificationToken: string,
): Promise<PendingVerification> {
  const peeked = await peekVerification(ctx, oauthSessionToken);
  if (!peeked || !safeEqual(peeked.verificationHash, sha256Hex(verificationToken)))
    throw socialError('OAUTH_VERIFICATION_INVALID');
  const taken = await takeVerification(ctx, oauthSessionToken);
  if (!taken || taken.verificationHash !== peeked.verificationHash)
    throw socialError('OAUTH_VERIFICATION_INVALID');
  return taken;
}
