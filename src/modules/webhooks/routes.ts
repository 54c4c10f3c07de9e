/** Webhooks and audit streams (API.md §23). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/access.js';
import { routes } from '../../platform/http/route.js';
import { EVENT_TYPES } from './catalogue.js';
import type { WebhooksDeps } from './deps.js';
import { webhookMessage } from './errors.js';
import {
  CreateWebhookBody,
  DeliveriesQuery,
  DeliveryList,
  DeliveryRead,
  EventTypeList,
  ReplayBody,
  ReplayResult,
  UpdateWebhookBody,
  WebhookDeleted,
  WebhookIdParams,
  WebhookList,
  WebhookRead,
  WebhookWithSecret,
} from './schemas.js';
import * as service from './service.js';

export function webhookRoutes(ctx: WebhooksDeps): FastifyPluginAsyncTypebox {
  return routes('webhooks', (route) => {
    const actor = (req: FastifyRequest): service.Actor => {
      const p = requirePrincipal(req);
      return { tenantId: p.tenantId, userId: p.userId, audit: req.auditContext() };
    };

    route(
      'GET /event-types',
      'The event types an endpoint may subscribe to (also `family.*` and `*`)',
      { access: 'webhooks.read', ok: EventTypeList },
      async () => ({ event_types: [...EVENT_TYPES] }),
    );

    route(
      'POST /',
      'Create an endpoint; its signing secret is in this response only',
      { access: 'webhooks.write', body: CreateWebhookBody, created: WebhookWithSecret, errors: [409, 422] },
      (req) => service.createEndpoint(ctx, actor(req), req.body),
    );

    route(
      'GET /',
      "The tenant's endpoints, oldest first",
      { access: 'webhooks.read', ok: WebhookList },
      (req) => service.listEndpoints(ctx, requirePrincipal(req).tenantId),
    );

    route(
      'GET /:id',
      { access: 'webhooks.read', params: WebhookIdParams, ok: WebhookRead, errors: [404, 422] },
      (req) => service.getEndpoint(ctx, requirePrincipal(req).tenantId, req.params.id),
    );

    route(
      'PATCH /:id',
      'Change the URL, events, description, or enable/disable (enabling resumes where delivery stopped)',
      {
        access: 'webhooks.write',
        params: WebhookIdParams,
        body: UpdateWebhookBody,
        ok: WebhookRead,
        errors: [404, 422],
      },
      (req) => service.updateEndpoint(ctx, actor(req), req.params.id, req.body),
    );

    route(
      'DELETE /:id',
      'Delete an endpoint and its delivery log',
      { access: 'webhooks.write', params: WebhookIdParams, ok: WebhookDeleted, errors: [404, 422] },
      async (req) => {
        await service.deleteEndpoint(ctx, actor(req), req.params.id);
        return { success: true, message: webhookMessage('webhooks.deleted', req.locale) };
      },
    );

    route(
      'POST /:id/secret',
      'Rotate the signing secret (shown once); the previous one keeps signing for 24 h',
      { access: 'webhooks.write', params: WebhookIdParams, ok: WebhookWithSecret, errors: [404, 422] },
      (req) => service.rotateSecret(ctx, actor(req), req.params.id),
    );

    route(
      'GET /:id/deliveries',
      'The delivery log of an endpoint, newest first (cursor)',
      {
        access: 'webhooks.read',
        params: WebhookIdParams,
        query: DeliveriesQuery,
        ok: DeliveryList,
        errors: [404, 422],
      },
      (req) => service.listDeliveries(ctx, requirePrincipal(req).tenantId, req.params.id, req.query),
    );

    route(
      'POST /:id/replay',
      'Send again one event (`event_id`) or every event of a time range (`from`, `to`; at most 1000)',
      {
        access: 'webhooks.write',
        params: WebhookIdParams,
        body: ReplayBody,
        ok: ReplayResult,
        errors: [404, 409, 422],
      },
      (req) => service.replay(ctx, actor(req), req.params.id, req.body),
    );

    route(
      'POST /:id/test',
      'Queue a `webhook.test` event to the endpoint; its delivery is in the log',
      { access: 'webhooks.write', params: WebhookIdParams, created: DeliveryRead, errors: [404, 409, 422] },
      (req) => service.sendTest(ctx, actor(req), req.params.id),
    );
  });
}
