/**
 * `GET /.well-known/jwks.json` (API.md §19): the public keys that verify the app's tokens (current and
 * previous), so other services verify without a shared secret. Public, outside /api/v1; under HS* it answers
 * `{"keys": []}` (HMAC secrets are never published). A short cache: a verifier meeting an unknown kid re-fetches.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../context.js';

const JWKS_MAX_AGE_SECONDS = 60;

export function jwksRoute(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags: ['base'],
          response: {
            200: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }),
          },
        },
      },
      async (_req, reply) => {
        reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
        return ctx.jwt.jwks();
      },
    );
  };
}
