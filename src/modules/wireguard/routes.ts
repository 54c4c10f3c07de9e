/** WireGuard peers and server (API.md §15). Thin: schema, access, one service call. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../platform/http/access.js';
import { errorResponses, UuidParams } from '../../platform/http/schemas.js';
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
  return async (app) => {
    const tags = ['wireguard'];

    app.post(
      '/peers',
      {
        config: { access: 'wireguard.write' },
        schema: {
          tags,
          summary: 'Create a peer (client key, or a server-generated pair returned once)',
          body: CreatePeerBody,
          response: { 201: PeerCreated, ...errorResponses(400, 401, 403, 409, 422) },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req);
        const created = await service.createPeer(ctx, p.tenantId, p.userId, req.body, req.auditContext());
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/peers',
      {
        config: { access: 'wireguard.read' },
        schema: {
          tags,
          querystring: ListPeersQuery,
          response: { 200: PeerList, ...errorResponses(401, 403, 422) },
        },
      },
      async (req) => service.listPeers(ctx, requirePrincipal(req).tenantId, req.query),
    );

    app.get(
      '/peers/:id',
      {
        config: { access: 'wireguard.read' },
        schema: {
          tags,
          params: UuidParams,
          response: { 200: PeerRead, ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req) =>
        service.toPeerRead(await service.getPeer(ctx, requirePrincipal(req).tenantId, req.params.id)),
    );

    app.patch(
      '/peers/:id',
      {
        config: { access: 'wireguard.write' },
        schema: {
          tags,
          params: UuidParams,
          body: UpdatePeerBody,
          response: { 200: PeerRead, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (req) =>
        service.updatePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.body, req.auditContext()),
    );

    app.delete(
      '/peers/:id',
      {
        config: { access: 'wireguard.write' },
        schema: {
          tags,
          params: UuidParams,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422) },
        },
      },
      async (req, reply) => {
        await service.deletePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext());
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/peers/:id/revoke',
      {
        config: { access: 'wireguard.write' },
        schema: {
          tags,
          params: UuidParams,
          response: { 200: PeerRead, ...errorResponses(400, 401, 403, 404, 422) },
        },
      },
      async (req) =>
        service.revokePeer(ctx, requirePrincipal(req).tenantId, req.params.id, req.auditContext()),
    );

    app.get(
      '/peers/:id/config',
      {
        config: { access: 'wireguard.read' },
        schema: {
          tags,
          summary: 'wg-quick config (text/plain); secrets are placeholders, they were shown once at creation',
          params: UuidParams,
          response: {
            200: { content: { 'text/plain': { schema: Type.String() } } },
            ...errorResponses(401, 403, 404, 422),
          },
        },
      },
      async (req, reply) => {
        const text = await service.peerConfig(ctx, requirePrincipal(req).tenantId, req.params.id);
        return reply.type('text/plain; charset=utf-8').send(text);
      },
    );

    app.get(
      '/server',
      {
        config: { access: 'wireguard.read' },
        schema: { tags, response: { 200: ServerRead, ...errorResponses(401, 403) } },
      },
      async (req) => service.serverInfo(ctx, requirePrincipal(req).tenantId),
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
  };
}
