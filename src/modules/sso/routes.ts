import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../platform/http/access.js';
import { notFound, platformErrors } from '../../platform/http/errors.js';
import { errorResponses, SuccessNoData } from '../../platform/http/schemas.js';
import { authMessage, LoginResponseSchema } from '../auth/index.js';
import { actorOf } from '../rbac/index.js';
import { resolveTenantHeader, resolveTenantId } from '../tenants/index.js';
import type { SsoDeps } from './deps.js';
/** Enterprise SSO (API.md §17) under /api/v1/sso. Thin: schema, access, one service call. */
import { ssoText } from './errors.js';
import { listIdentities, unlinkIdentity } from './identities.js';
import {
  AddDomainBody,
  AuthorizeQuery,
  AuthorizeResponse,
  ConnectionList,
  ConnectionParams,
  ConnectionRead,
  CreateConnectionBody,
  DiscoverBody,
  DiscoverResponse,
  DomainList,
  DomainParams,
  DomainRead,
  IdentityList,
  IdentityParams,
  TokenBody,
  UpdateConnectionBody,
} from './schemas.js';
import * as sso from './service.js';
import { exchangeCode } from './signin.js';

const tenantHeader = Type.Object({ 'x-tenant-id': Type.Optional(Type.String()) });
const tags = ['sso'];

/** The editor of a connection: the RBAC actor and, for a tenant-owned API key, its role (the grant ceiling). */
const editorOf = async (req: FastifyRequest): Promise<sso.SsoActor> => ({
  ...(await actorOf(req)),
  roleId: req.principal?.roleId ?? null,
});

export function ssoRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/connections',
      {
        config: { access: 'sso.read' },
        schema: {
          tags,
          summary: "The tenant's SSO connections",
          response: { 200: ConnectionList, ...errorResponses(401, 403) },
        },
      },
      (req) => sso.listConnections(ctx, req.principal!.tenantId),
    );

    app.post(
      '/connections',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          summary: 'Create an SSO connection (the OIDC client secret is write-only)',
          body: CreateConnectionBody,
          response: { 201: ConnectionRead, ...errorResponses(401, 403, 409, 422) },
        },
      },
      async (req, reply) =>
        reply.code(201).send(await sso.createConnection(ctx, await editorOf(req), req.body)),
    );

    app.get(
      '/connections/:id',
      {
        config: { access: 'sso.read' },
        schema: {
          tags,
          params: ConnectionParams,
          response: { 200: ConnectionRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => sso.getConnection(ctx, req.principal!.tenantId, req.params.id),
    );

    app.patch(
      '/connections/:id',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          params: ConnectionParams,
          body: UpdateConnectionBody,
          response: { 200: ConnectionRead, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req) => sso.updateConnection(ctx, await editorOf(req), req.params.id, req.body),
    );

    app.delete(
      '/connections/:id',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          params: ConnectionParams,
          response: { 200: SuccessNoData, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        await sso.deleteConnection(ctx, await actorOf(req), req.params.id);
        return { success: true, message: ssoText('sso.connection_deleted', req.locale), data: null };
      },
    );

    // ---- domains ----

    app.get(
      '/connections/:id/domains',
      {
        config: { access: 'sso.read' },
        schema: {
          tags,
          params: ConnectionParams,
          response: { 200: DomainList, ...errorResponses(401, 403, 404, 422) },
        },
      },
      (req) => sso.listDomains(ctx, req.principal!.tenantId, req.params.id),
    );

    app.post(
      '/connections/:id/domains',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          summary: 'Add an email domain to a connection (unverified until its DNS TXT record is checked)',
          params: ConnectionParams,
          body: AddDomainBody,
          response: { 201: DomainRead, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req, reply) =>
        reply.code(201).send(await sso.addDomain(ctx, await actorOf(req), req.params.id, req.body.domain)),
    );

    app.delete(
      '/connections/:id/domains/:domain',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          params: DomainParams,
          response: { 200: SuccessNoData, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) => {
        await sso.removeDomain(ctx, await actorOf(req), req.params.id, req.params.domain);
        return { success: true, message: ssoText('sso.domain_removed', req.locale), data: null };
      },
    );

    app.post(
      '/connections/:id/domains/:domain/verify',
      {
        config: { access: 'sso.write' },
        schema: {
          tags,
          summary: "Check the DNS TXT record _massacorp-verify.<domain> = the connection's domain_token",
          params: DomainParams,
          response: { 200: DomainRead, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req) => sso.verifyDomain(ctx, await actorOf(req), req.params.id, req.params.domain),
    );

    app.post(
      '/platform/connections/:id/domains/:domain/verify',
      {
        config: { access: 'platform.tenants' },
        schema: {
          tags,
          summary: "Platform operators: mark a domain of any tenant's connection verified (no DNS check)",
          params: DomainParams,
          response: { 200: DomainRead, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req) => sso.operatorVerifyDomain(ctx, await actorOf(req), req.params.id, req.params.domain),
    );

    // ---- sign-in ----

    app.post(
      '/discover',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary: 'The SSO connection of an email address (verified domains of enabled connections only)',
          headers: tenantHeader,
          body: DiscoverBody,
          response: { 200: DiscoverResponse, ...errorResponses(400, 404, 422, 429) },
        },
      },
      async (req) => {
        const header = req.headers['x-tenant-id'];
        const tenantId = header === undefined ? null : await resolveTenantId(ctx, header);
        if (header !== undefined && tenantId === null) throw notFound('sso_connection');
        return sso.discover(ctx, req.body.email, tenantId);
      },
    );

    app.get(
      '/connections/:id/authorize',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary:
            "Start an SP-initiated sign-in (or, with mode=link and a user's bearer token, link an identity to the caller): the identity provider's URL and the flow state",
          headers: tenantHeader,
          params: ConnectionParams,
          querystring: AuthorizeQuery,
          response: { 200: AuthorizeResponse, ...errorResponses(400, 401, 403, 404, 422, 429, 502) },
        },
      },
      async (req) => {
        // The client's state is echoed on the final redirect in either mode; the PKCE binding only matters when a
        // one-time code is issued (sign-in), but is kept the same way in link mode.
        const client = {
          state: req.query.state,
          codeChallenge: req.query.code_challenge,
          codeChallengeMethod: req.query.code_challenge_method,
        };
        if (req.query.mode === 'link') {
          // Link mode: the caller must be a signed-in user (never an API key); the tenant is the token's.
          const p = await req.authenticate();
          if (p.kind !== 'user' || p.userId === null)
            throw platformErrors.error('UNAUTHORIZED', { reason: 'mode=link needs a user access token' });
          return sso.authorize(ctx, p.tenantId, req.params.id, req.query.redirect_uri, client, {
            userId: p.userId,
            sessionId: p.sessionId,
          });
        }
        const tenant = await resolveTenantHeader(ctx, req.headers['x-tenant-id']);
        if (tenant?.status !== 'active') throw notFound('sso_connection');
        return sso.authorize(ctx, tenant.id, req.params.id, req.query.redirect_uri, client);
      },
    );

    // ---- the caller's external identities (link mode, §17) ----

    app.get(
      '/identities',
      {
        // Never through an API key: a key must not learn or change how its owner signs in.
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "The caller's external identities (SSO connections and social providers)",
          response: { 200: IdentityList, ...errorResponses(401, 403) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        return listIdentities(ctx, p.tenantId, p.userId);
      },
    );

    app.delete(
      '/identities/:id',
      {
        config: { access: 'self', keyScope: null },
        schema: {
          tags,
          summary: "Remove one of the caller's external identities (never the last way to sign in: 409)",
          params: IdentityParams,
          response: { 200: SuccessNoData, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (req) => {
        const p = requireUser(req);
        await unlinkIdentity(ctx, p.tenantId, p.userId, req.params.id, req.auditContext());
        return { success: true, message: ssoText('sso.identity_unlinked', req.locale), data: null };
      },
    );

    app.post(
      '/token',
      {
        config: { access: 'public', rateLimit: { bucket: 'login' } },
        schema: {
          tags,
          summary:
            'Exchange the one-time code of an SSO sign-in for tokens (or the MFA step), as POST /auth/login; code_verifier required when authorize had a code_challenge',
          body: TokenBody,
          response: { 200: LoginResponseSchema, ...errorResponses(400, 403, 422, 429) },
        },
      },
      async (req) => {
        const client = {
          ip: req.ip,
          userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
        };
        const r = await exchangeCode(ctx, req.body.code, client, req.auditContext(), req.body.code_verifier);
        return { ...r, message: authMessage(r.message, req.locale) };
      },
    );
  };
}
