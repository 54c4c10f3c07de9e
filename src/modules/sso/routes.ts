import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../platform/http/access.js';
import { notFound, platformErrors } from '../../platform/http/errors.js';
import { clientOf, routes, succeeded, TenantHeader } from '../../platform/http/route.js';
import { SuccessNoData } from '../../platform/http/schemas.js';
import { authMessage, LoginResponseSchema } from '../auth/index.js';
import { actorOf } from '../rbac/index.js';
import { resolveTenantHeader, resolveTenantId } from '../tenants/index.js';
import { readTestResult } from './connection-test.js';
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
  ConnectionTestResultRead,
  CreateConnectionBody,
  DiscoverBody,
  DiscoverResponse,
  DomainList,
  DomainParams,
  DomainRead,
  IdentityList,
  IdentityParams,
  TestResultParams,
  TokenBody,
  UpdateConnectionBody,
} from './schemas.js';
import * as sso from './service.js';
import { exchangeCode } from './signin.js';

/** The editor of a connection: the RBAC actor and, for a tenant-owned API key, its role (the grant ceiling). */
const editorOf = async (req: FastifyRequest): Promise<sso.SsoActor> => ({
  ...(await actorOf(req)),
  roleId: req.principal?.roleId ?? null,
});

export function ssoRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return routes('sso', (route) => {
    route(
      'GET /connections',
      "The tenant's SSO connections",
      { access: 'sso.read', ok: ConnectionList },
      (req) => sso.listConnections(ctx, req.principal!.tenantId),
    );

    route(
      'POST /connections',
      'Create an SSO connection (the OIDC client secret is write-only)',
      { access: 'sso.write', body: CreateConnectionBody, created: ConnectionRead, errors: [409, 422] },
      async (req) => sso.createConnection(ctx, await editorOf(req), req.body),
    );

    route(
      'GET /connections/:id',
      { access: 'sso.read', params: ConnectionParams, ok: ConnectionRead, errors: [404, 422] },
      (req) => sso.getConnection(ctx, req.principal!.tenantId, req.params.id),
    );

    route(
      'PATCH /connections/:id',
      {
        access: 'sso.write',
        params: ConnectionParams,
        body: UpdateConnectionBody,
        ok: ConnectionRead,
        errors: [404, 409, 422],
      },
      async (req) => sso.updateConnection(ctx, await editorOf(req), req.params.id, req.body),
    );

    route(
      'POST /connections/:id/metadata/refresh',
      "Read a SAML connection's IdP metadata again from its idp_metadata_url (entity id, SSO URL, certificates)",
      { access: 'sso.write', params: ConnectionParams, ok: ConnectionRead, errors: [404, 409, 422] },
      async (req) => sso.refreshIdpMetadata(ctx, await editorOf(req), req.params.id),
    );

    route(
      'POST /connections/:id/test',
      "Test a connection: a sign-in at the identity provider that ends on the console's page with the claims received (or the refusal), signing nobody in",
      { access: 'sso.write', params: ConnectionParams, ok: AuthorizeResponse, errors: [400, 404, 422, 502] },
      async (req) => sso.startConnectionTest(ctx, await actorOf(req), req.params.id),
    );

    route(
      'GET /connections/:id/test-results/:result',
      'The result of a connection test (kept 10 minutes)',
      { access: 'sso.write', params: TestResultParams, ok: ConnectionTestResultRead, errors: [404, 422] },
      (req) => readTestResult(ctx, req.principal!.tenantId, req.params.id, req.params.result),
    );

    route(
      'DELETE /connections/:id',
      { access: 'sso.write', params: ConnectionParams, ok: SuccessNoData, errors: [404, 422] },
      async (req) => {
        await sso.deleteConnection(ctx, await actorOf(req), req.params.id);
        return succeeded(ssoText('sso.connection_deleted', req.locale));
      },
    );

    // ---- domains ----

    route(
      'GET /connections/:id/domains',
      { access: 'sso.read', params: ConnectionParams, ok: DomainList, errors: [404, 422] },
      (req) => sso.listDomains(ctx, req.principal!.tenantId, req.params.id),
    );

    route(
      'POST /connections/:id/domains',
      'Add an email domain to a connection (unverified until its DNS TXT record is checked)',
      {
        access: 'sso.write',
        params: ConnectionParams,
        body: AddDomainBody,
        created: DomainRead,
        errors: [404, 409, 422],
      },
      async (req) => sso.addDomain(ctx, await actorOf(req), req.params.id, req.body.domain),
    );

    route(
      'DELETE /connections/:id/domains/:domain',
      { access: 'sso.write', params: DomainParams, ok: SuccessNoData, errors: [404, 422] },
      async (req) => {
        await sso.removeDomain(ctx, await actorOf(req), req.params.id, req.params.domain);
        return succeeded(ssoText('sso.domain_removed', req.locale));
      },
    );

    route(
      'POST /connections/:id/domains/:domain/verify',
      "Check the DNS TXT record _massacorp-verify.<domain> = the connection's domain_token",
      { access: 'sso.write', params: DomainParams, ok: DomainRead, errors: [400, 404, 409, 422] },
      async (req) => sso.verifyDomain(ctx, await actorOf(req), req.params.id, req.params.domain),
    );

    route(
      'POST /platform/connections/:id/domains/:domain/verify',
      "Platform operators: mark a domain of any tenant's connection verified (no DNS check)",
      { access: 'platform.tenants', params: DomainParams, ok: DomainRead, errors: [404, 409, 422] },
      async (req) => sso.operatorVerifyDomain(ctx, await actorOf(req), req.params.id, req.params.domain),
    );

    // ---- sign-in ----

    route(
      'POST /discover',
      'The SSO connection of an email address (verified domains of enabled connections only)',
      {
        access: 'public',
        rateLimit: { bucket: 'login' },
        headers: TenantHeader,
        body: DiscoverBody,
        ok: DiscoverResponse,
        errors: [400, 404, 422, 429],
      },
      async (req) => {
        const header = req.headers['x-tenant-id'];
        const tenantId = header === undefined ? null : await resolveTenantId(ctx, header);
        if (header !== undefined && tenantId === null) throw notFound('sso_connection');
        return sso.discover(ctx, req.body.email, tenantId);
      },
    );

    route(
      'GET /connections/:id/authorize',
      "Start an SP-initiated sign-in (or, with mode=link and a user's bearer token, link an identity to the caller): the identity provider's URL and the flow state",
      {
        access: 'public',
        rateLimit: { bucket: 'login' },
        headers: TenantHeader,
        params: ConnectionParams,
        query: AuthorizeQuery,
        ok: AuthorizeResponse,
        errors: [400, 401, 403, 404, 422, 429, 502],
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
    // Never through an API key: a key must not learn or change how its owner signs in.

    route(
      'GET /identities',
      "The caller's external identities (SSO connections and social providers)",
      { access: 'self', keyScope: null, ok: IdentityList, errors: [403] },
      async (req) => {
        const p = requireUser(req);
        return listIdentities(ctx, p.tenantId, p.userId);
      },
    );

    route(
      'DELETE /identities/:id',
      "Remove one of the caller's external identities (never the last way to sign in: 409)",
      {
        access: 'self',
        keyScope: null,
        params: IdentityParams,
        ok: SuccessNoData,
        errors: [403, 404, 409, 422],
      },
      async (req) => {
        const p = requireUser(req);
        await unlinkIdentity(ctx, p.tenantId, p.userId, req.params.id, req.auditContext());
        return succeeded(ssoText('sso.identity_unlinked', req.locale));
      },
    );

    route(
      'POST /token',
      'Exchange the one-time code of an SSO sign-in for tokens (or the MFA step), as POST /auth/login; code_verifier required when authorize had a code_challenge',
      {
        access: 'public',
        rateLimit: { bucket: 'login' },
        body: TokenBody,
        ok: LoginResponseSchema,
        errors: [400, 403, 422, 429],
      },
      async (req) => {
        const { code, code_verifier } = req.body;
        const r = await exchangeCode(ctx, code, clientOf(req), req.auditContext(), code_verifier);
        return { ...r, message: authMessage(r.message, req.locale) };
      },
    );
  });
}
