/** WireGuard peers and server (API.md §15). Thin: schema, access, one service call. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { UuidParams } from '../../platform/http/schemas.js';
import { startInProcessAgent } from './agent.js';
import './errors.js';
import type { WireguardDeps } from './deps.js';
import {
  CreatePeerBody,
  ListPeersQuery,
  PeerCreated,
  PeerList,
  PeerRead,
  ServerRead,
  UpdatePeerBody,
} from './schemas.js';
import * as service from './service.js';

export function wireguardRoutes(ctx: WireguardDeps): FastifyPluginAsyncTypebox {
  return routes('wireguard', (route, app) => {
    route(
      'POST /peers',
      'Create a peer (client key, or a server-generated pair returned once)',
      { access: 'wireguard.write', body: CreatePeerBody, created: PeerCreated, errors: [400, 409, 422] },
      (req) => {
        const p = requirePrincipal(req);
        return service.createPeer(ctx, p.tenantId, p.userId, req.body, req.auditContext());
      },
    );

    route(
      'GET /peers',
      { access: 'wireguard.read', query: ListPeersQuery, ok: PeerList, errors: [422] },
      async (req) => service.listPeers(ctx, requirePrincipal(req).tenantId, req.query),
    );

    route(
      'GET /peers/:id',
      { access: 'wireguard.read', params: UuidParams, ok: PeerRead, errors: [404, 422] },
      async (req) =>
        service.toPeerRead(await service.getPeer(ctx, requirePrincipal(req).tenantId, req.params.id)),
    );

    route(
      'PATCH /peers/:id',
      {
        access: 'wireguard.write',
        params: UuidParams,
        body: UpdatePeerBody,
        ok: PeerRead,
        errors: [400, 404, 409, 422],
      },
      async (req) =>
        service.updatePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.body, req.auditContext()),
    );

    route(
      'DELETE /peers/:id',
      { access: 'wireguard.write', params: UuidParams, noContent: true, errors: [404, 422] },
      (req) => service.deletePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext()),
    );

    route(
      'POST /peers/:id/revoke',
      { access: 'wireguard.write', params: UuidParams, ok: PeerRead, errors: [400, 404, 422] },
      async (req) =>
        service.revokePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext()),
    );

    route(
      'GET /peers/:id/config',
      'wg-quick config (text/plain); secrets are placeholders, they were shown once at creation',
      {
        access: 'wireguard.read',
        params: UuidParams,
        ok: { content: { 'text/plain': { schema: Type.String() } } },
        errors: [404, 422],
      },
      async (req, reply) => {
        const text = await service.peerConfig(ctx, requirePrincipal(req).tenantId, req.params.id);
        return reply.type('text/plain; charset=utf-8').send(text);
      },
    );

    route('GET /server', { access: 'wireguard.read', ok: ServerRead }, async (req) =>
      service.serverInfo(ctx, requirePrincipal(req).tenantId),
    );

    // WG_AGENT_IN_PROCESS: this replica also drives the interface (single-host deployments, the e2e test).
    if (ctx.config.wgAgentInProcess) {
      let stop: (() => Promise<void>) | null = null;
      app.addHook('onReady', async () => {
        stop = startInProcessAgent(ctx);
      });
      app.addHook('onClose', async () => {
        await stop?.();
      });
    }
  });
}
