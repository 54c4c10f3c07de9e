/**
 * The SAML flow of the SSO module (API.md §17): the SP-initiated branch of GET /connections/{id}/authorize, the
 * public SP metadata, and the ACS, which runs the one callback flow (../callback.ts) with the SAML verify strategy.
 * Mounted under /api/v1/sso by the core (see ../flows.ts).
 *
 * The flow state is the sign-in's only record: the AuthnRequest id is `_` + the flow's ref (the SHA-256 of its
 * state, ../flows.ts flowRef), kept in the flow's data, and a response's InResponseTo is checked against it. The
 * RelayState is the key of that record, so there is no second RelayState to compare with: a response posted with
 * the RelayState of another sign-in answers another request (SAML_IN_RESPONSE_TO_MISMATCH when that request's flow
 * is live, SAML_UNKNOWN_REQUEST otherwise).
 */

import { X509Certificate } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound, validationError } from '../../../platform/http/errors.js';
import { routes } from '../../../platform/http/route.js';
import { createGuardedFetch, SsrfError } from '../../../platform/net/ssrf.js';
import { enterpriseCompletion, runCallback, type VerifyStrategy } from '../callback.js';
import type { SsoDeps } from '../deps.js';
import { assertFetchable } from '../fetchable.js';
import { type ConnectionInput, flowRef, flowRefLive, type SsoFlow } from '../flows.js';
import { callbackInput, sendOutcome } from '../reply.js';
import * as repo from '../repository.js';
import { verifiedIdentity } from '../signin.js';
import type { ConnectionRow } from '../tables.js';
import { type SamlErrorCode, samlError } from './errors.js';
import { fetchIdpMetadata, type IdpMetadata, IdpMetadataError, parseIdpMetadata } from './idp-metadata.js';
import {
  readSamlResponse,
  SAML_RESPONSE_MAX_CHARS,
  type SamlConnection,
  SamlServiceProvider,
} from './service-provider.js';
import { loadSpSigningKey, type SpSigningKey } from './sp-key.js';

/**
 * Why a response that reaches the ACS without a live flow is refused. An IdP-initiated response (no InResponseTo,
 * whatever RelayState the IdP was configured with) gets the code the docs promise for it; a response that answers
 * a request of ours that is gone (expired, used, or never ours) SAML_UNKNOWN_REQUEST; an unreadable one
 * SAML_RESPONSE_INVALID. Nothing is audited: no tenant is known, and the response's unverified Issuer must not
 * let anyone write into a tenant's audit log.
 */
function refusalWithoutFlow(samlResponse: string): SamlErrorCode {
  try {
    return readSamlResponse(samlResponse).inResponseTo === null
      ? 'SAML_IN_RESPONSE_TO_MISSING'
      : 'SAML_UNKNOWN_REQUEST';
  } catch {
    return 'SAML_RESPONSE_INVALID';
  }
}

/** The ACS body: a base64 SAMLResponse (at most SAML_RESPONSE_MAX_CHARS) and the RelayState, form-encoded. */
const ACS_BODY_LIMIT = SAML_RESPONSE_MAX_CHARS + 8 * 1024;

const providers = new WeakMap<SsoDeps, SamlServiceProvider>();
function serviceProvider(ctx: SsoDeps): SamlServiceProvider {
  let sp = providers.get(ctx);
  if (!sp) {
    // SAML_SP_* override; else the key kept in the database, read (or made) once per app, retried if that failed.
    const configured = ctx.config.samlSpSigning;
    let loading: Promise<SpSigningKey> | null = null;
    const signingKey = (): Promise<SpSigningKey> => {
      if (configured) return Promise.resolve(configured);
      loading ??= loadSpSigningKey(ctx, ctx.config.publicUrl, ctx.clock.now()).catch((err: unknown) => {
        loading = null;
        throw err;
      });
      return loading;
    };
    sp = new SamlServiceProvider({
      store: ctx.store,
      clock: ctx.clock,
      publicUrl: ctx.config.publicUrl,
      signingKey,
    });
    providers.set(ctx, sp);
  }
  return sp;
}

/** The SAML fields of a connection row; null when they are incomplete (a connection being set up). */
export function samlConnectionOf(row: ConnectionRow): SamlConnection | null {
  if (row.type !== 'saml' || !row.samlIdpEntityId || !row.samlIdpSsoUrl || !row.samlIdpCertificate)
    return null;
  return {
    id: row.id,
    tenantId: row.tenantId,
    idpEntityId: row.samlIdpEntityId,
    idpSsoUrl: row.samlIdpSsoUrl,
    idpCertificates: [
      row.samlIdpCertificate,
      ...(row.samlIdpCertificateNext ? [row.samlIdpCertificateNext] : []),
    ],
    attributeMap: row.samlAttributeMap,
    spEntityId: row.samlSpEntityId,
  };
}

/**
 * The IdP settings a connection body gives, completed from its metadata: pasted (`idp_metadata_xml`) or fetched
 * (`idp_metadata_url`, through the SSRF guard). Fields given beside the metadata win over it; the metadata's
 * second signing certificate, if any, becomes the pinned next one (or none: the metadata is the IdP's truth).
 */
async function withIdpMetadata<B extends ConnectionInput>(ctx: SsoDeps, body: B): Promise<B> {
  const saml = body.saml;
  if (!saml || (saml.idp_metadata_xml === undefined && !saml.idp_metadata_url)) return body;
  if (saml.idp_metadata_xml !== undefined && saml.idp_metadata_url)
    throw validationError(
      'body.saml.idp_metadata_url',
      'give the metadata or its URL, not both',
      'value_error',
    );
  const field =
    saml.idp_metadata_xml !== undefined ? 'body.saml.idp_metadata_xml' : 'body.saml.idp_metadata_url';
  let metadata: IdpMetadata;
  try {
    let xml = saml.idp_metadata_xml;
    if (xml === undefined) {
      assertFetchable(ctx, saml.idp_metadata_url!, field);
      xml = await fetchIdpMetadata(createGuardedFetch({ env: ctx.config.env }), saml.idp_metadata_url!);
    }
    metadata = parseIdpMetadata(xml, saml.idp_entity_id);
  } catch (err) {
    if (err instanceof IdpMetadataError || err instanceof SsrfError)
      throw validationError(field, err.message, 'value_error');
    throw err;
  }
  const { idp_metadata_xml: _pasted, ...given } = saml;
  return {
    ...body,
    saml: {
      ...given,
      idp_entity_id: saml.idp_entity_id ?? metadata.entityId,
      idp_sso_url: saml.idp_sso_url ?? metadata.ssoUrl,
      idp_certificate: saml.idp_certificate ?? metadata.certificates[0],
      idp_certificate_next:
        saml.idp_certificate_next !== undefined
          ? saml.idp_certificate_next
          : (metadata.certificates[1] ?? null),
    },
  };
}

/** PEM, or the bare base64 body IdP consoles show: either must be an X.509 certificate. */
function parsesAsCertificate(value: string): boolean {
  const body = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/=]+$/.test(body)) return false;
  try {
    new X509Certificate(Buffer.from(body, 'base64'));
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
function browserSafeUrl(value: string, env: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (env === 'dev' || env === 'test') && LOOPBACK.has(url.hostname);
}

const AcsBody = Type.Object(
  {
    SAMLResponse: Type.String({ minLength: 1, maxLength: SAML_RESPONSE_MAX_CHARS }),
    RelayState: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  // Some IdPs post extra fields (SigAlg, Signature of the redirect binding); they are not used.
  { additionalProperties: true },
);
const MetadataParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

function samlRoutes(ctx: SsoDeps): FastifyPluginAsyncTypebox {
  return routes('sso', async (route, app) => {
    const sp = serviceProvider(ctx);

    route(
      'GET /saml/:id/metadata',
      "A SAML connection's SP metadata (entity id, ACS URL, HTTP-POST binding)",
      { access: 'public', params: MetadataParams, ok: Type.String(), errors: [404, 422] },
      async (req, reply) => {
        const row = await ctx.database.withSystem((tx) => repo.findConnectionAnyTenant(tx, req.params.id));
        const conn = row && samlConnectionOf(row);
        if (!conn) throw notFound('sso_connection');
        return reply
          .type('application/samlmetadata+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .send(await sp.metadata(conn));
      },
    );

    // The ACS takes the IdP's HTTP-POST binding: form-encoded, parsed in this scope only.
    await app.register(
      routes('sso', async (formRoute, scope) => {
        await scope.register(formbody, { bodyLimit: ACS_BODY_LIMIT });
        formRoute(
          'POST /saml/acs',
          'SAML assertion consumer service: validates the signed response, then redirects to redirect_uri with ?code= (or ?error=)',
          {
            // Signs people in (and may create them): the login bucket, like the OIDC callback.
            access: 'public',
            rateLimit: { bucket: 'login' },
            bodyLimit: ACS_BODY_LIMIT,
            // The IdP's HTTP-POST binding is a form; JSON is read too (Fastify's default parser).
            consumes: ['application/x-www-form-urlencoded', 'application/json'],
            body: AcsBody,
            errors: [400, 401, 403, 409, 413, 415, 422],
          },
          async (req, reply) => {
            const input = callbackInput(req, { state: req.body.RelayState, answer: req.body.SAMLResponse });
            return sendOutcome(reply, await runCallback(ctx, samlStrategy, input));
          },
        );
      }),
    );
  });
}

/** The AuthnRequest id of a flow: its ref, as an NCName. */
const requestIdOf = (state: string) => `_${flowRef(state)}`;

/** The verify strategy of SAML: the response must answer the flow's AuthnRequest, signed by the connection's IdP. */
export const samlStrategy: VerifyStrategy = {
  type: 'saml',
  completion: enterpriseCompletion,
  // A replayed RelayState is audited and answered on its flow's redirect_uri; an unknown one (or none:
  // IdP-initiated) gets the error envelope.
  withoutFlow: (_ctx, input, used) => samlError(used ? 'SAML_REPLAY' : refusalWithoutFlow(input.answer)),
  foreignFlow: (_ctx, _flow, input) => samlError(refusalWithoutFlow(input.answer)),
  async verify(ctx, flow, input) {
    const response = readSamlResponse(input.answer); // the one decoding of the response
    if (response.inResponseTo === null) throw samlError('SAML_IN_RESPONSE_TO_MISSING');
    if (response.inResponseTo !== flow.data.requestId) {
      // The response answers another request: one of a live sign-in (posted with this RelayState), or one we
      // do not know (any more).
      const live = await flowRefLive(ctx, response.inResponseTo.slice(1));
      throw samlError(live ? 'SAML_IN_RESPONSE_TO_MISMATCH' : 'SAML_UNKNOWN_REQUEST');
    }
    const row = await ctx.database.withTenant(flow.tenantId, (tx) =>
      repo.findConnection(tx, flow.tenantId, flow.connectionId!),
    );
    // A connection test may try a connection that is not enabled yet.
    const conn = row && (row.enabled || flow.test) ? samlConnectionOf(row) : null;
    if (!row || !conn) throw samlError('SAML_CONNECTION_UNAVAILABLE');
    const identity = await serviceProvider(ctx).validate(
      conn,
      { requestId: response.inResponseTo },
      response,
    );
    // Without given/family attributes, a display name is split at its first space.
    const [first, ...rest] = (identity.name ?? '').split(' ');
    return verifiedIdentity(
      flow.tenantId,
      { kind: 'connection', connection: row },
      {
        ...identity,
        givenName: identity.givenName ?? (first || null),
        familyName: identity.familyName ?? (rest.join(' ') || null),
      },
    );
  },
};

export const samlFlow: SsoFlow = {
  type: 'saml',
  async authorize(ctx, { connection, state }) {
    const conn = samlConnectionOf(connection);
    if (!conn) throw samlError('SAML_CONNECTION_UNAVAILABLE');
    const { url, requestId } = await serviceProvider(ctx).startSignIn(conn, {
      relayState: state,
      requestId: requestIdOf(state),
    });
    return { authUrl: url, data: { requestId } };
  },
  routes: samlRoutes,
  prepareConnection: withIdpMetadata,
  validateConnection(ctx, input, type) {
    if (type !== 'saml') return;
    const saml = input.saml as
      | {
          idp_certificate?: unknown;
          idp_certificate_next?: unknown;
          idp_sso_url?: unknown;
          idp_metadata_url?: unknown;
        }
      | undefined;
    if (typeof saml?.idp_metadata_url === 'string')
      assertFetchable(ctx, saml.idp_metadata_url, 'body.saml.idp_metadata_url');
    if (typeof saml?.idp_certificate_next === 'string' && !parsesAsCertificate(saml.idp_certificate_next)) {
      throw validationError(
        'body.saml.idp_certificate_next',
        'not an X.509 certificate (PEM or base64)',
        'value_error',
      );
    }
    // The browser is sent there (the server never fetches it): https, or http to loopback in dev and test.
    if (typeof saml?.idp_sso_url === 'string' && !browserSafeUrl(saml.idp_sso_url, ctx.config.env)) {
      throw validationError('body.saml.idp_sso_url', 'must be an https URL', 'value_error.url');
    }
    if (typeof saml?.idp_certificate === 'string' && !parsesAsCertificate(saml.idp_certificate)) {
      throw validationError(
        'body.saml.idp_certificate',
        'not an X.509 certificate (PEM or base64)',
        'value_error',
      );
    }
  },
};
