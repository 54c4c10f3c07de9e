import { Type } from '@sinclair/typebox';
import { Acknowledgement, DateTime, Nullable, StrictObject, Uuid } from '../../platform/http/schemas.js';

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Events = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 50,
  uniqueItems: true,
});
const Description = Nullable(Type.String({ maxLength: 500 }));

export const CreateWebhookBody = StrictObject({
  url: Url,
  events: Events,
  enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(Description),
});

export const UpdateWebhookBody = StrictObject({
  url: Type.Optional(Url),
  events: Type.Optional(Events),
  enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(Description),
});

export const WebhookRead = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Nullable(Type.String()),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(Type.String()),
  /** While a rotation's old secret still signs (24 h). */
  previous_secret_expires_at: Nullable(Type.String()),
  created_by_user_id: Nullable(Type.Integer()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** Creation and rotation: the endpoint with its signing secret, shown in this response only. */
export const WebhookWithSecret = Type.Object({
  ...WebhookRead.properties,
  secret: Type.String({ description: 'whsec_…: shown once' }),
});

export const WebhookList = Type.Object({ endpoints: Type.Array(WebhookRead), total: Type.Integer() });

export const WebhookDeleted = Type.Object({ ...Acknowledgement });

export const DeliveryRead = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Type.String()),
  response_status: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  latency_ms: Nullable(Type.Integer()),
  response_excerpt: Nullable(Type.String()),
  audit_seq_from: Nullable(Type.Integer()),
  audit_seq_to: Nullable(Type.Integer()),
  replay_of: Nullable(Type.String()),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
});

export const DeliveriesQuery = Type.Object({
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
});

export const DeliveryList = Type.Object({
  deliveries: Type.Array(DeliveryRead),
  next_cursor: Nullable(Type.String()),
});

export const ReplayBody = StrictObject({
  event_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
});

export const ReplayResult = Type.Object({ replayed: Type.Integer(), truncated: Type.Boolean() });

export const WebhookIdParams = Type.Object({ id: Uuid });

export const EventTypeList = Type.Object({ event_types: Type.Array(Type.String()) });
