/** /api/v1/mfa (API.md §8) and the WebAuthn credentials of the caller. Only a signed-in user (never an API key). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../platform/http/access.js';
import { platformErrors } from '../../platform/http/errors.js';
import { routes } from '../../platform/http/route.js';
import { SuccessNoData, UuidParams } from '../../platform/http/schemas.js';
import type { MfaDeps } from './deps.js';
import { localised } from './errors.js';
import {
  CredentialList,
  CredentialRead,
  DisableResponse,
  EnableResponse,
  RecoveryCodeBody,
  RecoveryVerifyResponse,
  RegenerateResponse,
  RegisterVerifyBody,
  SetupResponse,
  StatusResponse,
  TotpCodeBody,
  VerifyCodeBody,
  VerifyResponse,
  WebauthnOptions,
  WebauthnVerifyBody,
} from './schemas.js';
import * as mfa from './service.js';
import * as webauthn from './webauthn.js';

/** MFA changes need the person: a key acting for its creator must not switch their second factor off. */
function caller(req: FastifyRequest): mfa.Caller {
  const p = requireUser(req);
  if (p.kind !== 'user')
    throw platformErrors.error('PERMISSION_DENIED', {
      reason: 'MFA is managed with a user session, not an API key',
    });
  return { tenantId: p.tenantId, userId: p.userId, email: p.email, sessionId: p.sessionId };
}

export function mfaRoutes(ctx: MfaDeps): FastifyPluginAsyncTypebox {
  return routes('mfa', (route) => {
    // Every route is the caller's own, and never an API key's.
    const userOnly = { access: 'self', keyScope: null } as const;
    const mfaLimited = { ...userOnly, rateLimit: { bucket: 'mfa' } } as const;
    const recoveryLimited = { ...userOnly, rateLimit: { bucket: 'recovery' } } as const;

    route(
      'POST /setup',
      'Start TOTP enrolment (same secret until enabled; step-up when a security key is on)',
      { ...userOnly, ok: SetupResponse, errors: [400, 403, 429] },
      async (req) => localised(await mfa.setup(ctx, caller(req), req.auditContext()), req.locale),
    );

    route(
      'POST /enable',
      'Confirm the secret with a code; returns 10 recovery codes once',
      { ...mfaLimited, body: TotpCodeBody, ok: EnableResponse, errors: [400, 403, 422, 429] },
      async (req) =>
        localised(await mfa.enable(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    route(
      'POST /disable',
      'Turn MFA off (TOTP, recovery codes, security keys); 409 while MFA is required',
      { ...mfaLimited, body: TotpCodeBody, ok: DisableResponse, errors: [400, 403, 409, 422, 429] },
      async (req) =>
        localised(await mfa.disable(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    route(
      'GET /status',
      "The caller's TOTP state",
      { ...userOnly, ok: StatusResponse, errors: [403] },
      (req) => mfa.status(ctx, caller(req)),
    );

    route(
      'POST /verify',
      'Check a TOTP code (step-up)',
      { ...mfaLimited, body: VerifyCodeBody, ok: VerifyResponse, errors: [400, 403, 422, 429] },
      async (req) =>
        localised(await mfa.verify(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    route(
      'POST /recovery/verify',
      'Use a recovery code (works once)',
      {
        ...recoveryLimited,
        body: RecoveryCodeBody,
        ok: RecoveryVerifyResponse,
        errors: [400, 403, 422, 429],
      },
      (req) => mfa.verifyRecovery(ctx, caller(req), req.body.code, req.auditContext()),
    );

    route(
      'POST /recovery/regenerate',
      'Replace all recovery codes (needs a TOTP code)',
      { ...recoveryLimited, body: VerifyCodeBody, ok: RegenerateResponse, errors: [400, 403, 422, 429] },
      (req) => mfa.regenerate(ctx, caller(req), req.body.code, req.auditContext()),
    );

    route(
      'POST /webauthn/register/options',
      'Challenge to register a security key or passkey (step-up once a factor exists)',
      { ...userOnly, ok: WebauthnOptions, errors: [403, 429] },
      (req) => webauthn.registrationOptions(ctx, caller(req)),
    );

    route(
      'POST /webauthn/verify/options',
      'Challenge to prove a security key (step-up)',
      { ...userOnly, ok: WebauthnOptions, errors: [400, 403, 429] },
      (req) => {
        const c = caller(req);
        return webauthn.authenticationOptions(ctx, c.tenantId, c.userId, 'step');
      },
    );

    route(
      'POST /webauthn/verify',
      'Prove a security key with an assertion (step-up, 5 min)',
      { ...mfaLimited, body: WebauthnVerifyBody, ok: VerifyResponse, errors: [400, 403, 422, 429] },
      async (req) =>
        localised(
          await webauthn.stepUpVerify(ctx, caller(req), req.body.response, req.auditContext()),
          req.locale,
        ),
    );

    route(
      'POST /webauthn/register/verify',
      'Register the key from its attestation',
      { ...mfaLimited, body: RegisterVerifyBody, created: CredentialRead, errors: [400, 403, 409, 422, 429] },
      (req) => webauthn.registerCredential(ctx, caller(req), req.body, req.auditContext()),
    );

    route(
      'GET /webauthn/credentials',
      "The caller's security keys",
      { ...userOnly, ok: CredentialList, errors: [403] },
      (req) => webauthn.listCredentials(ctx, caller(req)),
    );

    route(
      'DELETE /webauthn/credentials/:id',
      'Remove a security key (step-up; 409 for the last factor while MFA is required)',
      { ...userOnly, params: UuidParams, ok: SuccessNoData, errors: [403, 404, 409, 422] },
      async (req) =>
        localised(
          await webauthn.deleteCredential(ctx, caller(req), req.params.id, req.auditContext()),
          req.locale,
        ),
    );
  });
}
