/** /api/v1/mfa (API.md §8) and the WebAuthn credentials of the caller. Only a signed-in user (never an API key). */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../platform/http/access.js';
import { platformErrors } from '../../platform/http/errors.js';
import { errorResponses, SuccessNoData, UuidParams } from '../../platform/http/schemas.js';
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

const tags = ['mfa'];

export function mfaRoutes(ctx: MfaDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/setup',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: 'Start TOTP enrolment (same secret until enabled; step-up when a security key is on)',
          response: { 200: SetupResponse, ...errorResponses(400, 401, 403, 429) },
        },
      },
      async (req) => localised(await mfa.setup(ctx, caller(req), req.auditContext()), req.locale),
    );

    app.post(
      '/enable',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'mfa' } },
        schema: {
          tags,
          summary: 'Confirm the secret with a code; returns 10 recovery codes once',
          body: TotpCodeBody,
          response: { 200: EnableResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      async (req) =>
        localised(await mfa.enable(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    app.post(
      '/disable',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'mfa' } },
        schema: {
          tags,
          summary: 'Turn MFA off (TOTP, recovery codes, security keys); 409 while MFA is required',
          body: TotpCodeBody,
          response: { 200: DisableResponse, ...errorResponses(400, 401, 403, 409, 422, 429) },
        },
      },
      async (req) =>
        localised(await mfa.disable(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    app.get(
      '/status',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "The caller's TOTP state",
          response: { 200: StatusResponse, ...errorResponses(401, 403) },
        },
      },
      (req) => mfa.status(ctx, caller(req)),
    );

    app.post(
      '/verify',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'mfa' } },
        schema: {
          tags,
          summary: 'Check a TOTP code (step-up)',
          body: VerifyCodeBody,
          response: { 200: VerifyResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      async (req) =>
        localised(await mfa.verify(ctx, caller(req), req.body.code, req.auditContext()), req.locale),
    );

    app.post(
      '/recovery/verify',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'recovery' } },
        schema: {
          tags,
          summary: 'Use a recovery code (works once)',
          body: RecoveryCodeBody,
          response: { 200: RecoveryVerifyResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      (req) => mfa.verifyRecovery(ctx, caller(req), req.body.code, req.auditContext()),
    );

    app.post(
      '/recovery/regenerate',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'recovery' } },
        schema: {
          tags,
          summary: 'Replace all recovery codes (needs a TOTP code)',
          body: VerifyCodeBody,
          response: { 200: RegenerateResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      (req) => mfa.regenerate(ctx, caller(req), req.body.code, req.auditContext()),
    );

    app.post(
      '/webauthn/register/options',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: 'Challenge to register a security key or passkey (step-up once a factor exists)',
          response: { 200: WebauthnOptions, ...errorResponses(401, 403, 429) },
        },
      },
      (req) => webauthn.registrationOptions(ctx, caller(req)),
    );

    app.post(
      '/webauthn/verify/options',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: 'Challenge to prove a security key (step-up)',
          response: { 200: WebauthnOptions, ...errorResponses(400, 401, 403, 429) },
        },
      },
      (req) => {
        const c = caller(req);
        return webauthn.authenticationOptions(ctx, c.tenantId, c.userId, 'step');
      },
    );

    app.post(
      '/webauthn/verify',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'mfa' } },
        schema: {
          tags,
          summary: 'Prove a security key with an assertion (step-up, 5 min)',
          body: WebauthnVerifyBody,
          response: { 200: VerifyResponse, ...errorResponses(400, 401, 403, 422, 429) },
        },
      },
      async (req) =>
        localised(
          await webauthn.stepUpVerify(ctx, caller(req), req.body.response, req.auditContext()),
          req.locale,
        ),
    );

    app.post(
      '/webauthn/register/verify',
      {
        config: { access: 'self', keyScope: null, rateLimit: { bucket: 'mfa' } },
        schema: {
          tags,
          summary: 'Register the key from its attestation',
          body: RegisterVerifyBody,
          response: { 201: CredentialRead, ...errorResponses(400, 401, 403, 409, 422, 429) },
        },
      },
      async (req, reply) =>
        reply
          .code(201)
          .send(await webauthn.registerCredential(ctx, caller(req), req.body, req.auditContext())),
    );

    app.get(
      '/webauthn/credentials',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "The caller's security keys",
          response: { 200: CredentialList, ...errorResponses(401, 403) },
        },
      },
      (req) => webauthn.listCredentials(ctx, caller(req)),
    );

    app.delete(
      '/webauthn/credentials/:id',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: 'Remove a security key (step-up; 409 for the last factor while MFA is required)',
          params: UuidParams,
          response: { 200: SuccessNoData, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req) =>
        localised(
          await webauthn.deleteCredential(ctx, caller(req), req.params.id, req.auditContext()),
          req.locale,
        ),
    );
  };
}
