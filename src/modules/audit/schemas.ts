/** TypeBox schemas of the audit routes (API.md §16). */
import { type Static, Type } from '@sinclair/typebox';
import { DateTime, Nullable } from '../../platform/http/schemas.js';

const Filters = {
  event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  actor_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  resource_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  resource_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  success: Type.Optional(Type.Boolean()),
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
};

export const ListQuery = Type.Object({
  ...Filters,
  actor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 320,
      description:
        'Who acted, as people name them: an email (a user of the tenant), an API key name (exact), `user:<id>`, ' +
        '`api_key:<id>` or `oidc_client:<uuid>` (a machine token), or a bare id (as actor_id). Nothing of the tenant by that name: an empty page.',
    }),
  ),
  /** Opaque to clients: the id and date (ms) of the last item of the previous page (ids descend); a bare id too. */
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}(\\.[0-9]{1,15})?$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});

export const ExportQuery = Type.Object({
  ...Filters,
  format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { default: 'ndjson' })),
});

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  tenant_id: Type.Integer(),
  seq: Type.Integer(),
  event_type: Type.String(),
  actor_type: Type.String(),
  actor_id: Nullable(Type.String()),
  resource_type: Nullable(Type.String()),
  resource_id: Nullable(Type.String()),
  success: Type.Boolean(),
  ip_address: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  session_id: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.String(),
  prev_hash: Type.String(),
  hash: Type.String(),
});

/** A listed record, with its actor as people know them: the user's email or the key's name (null once gone). */
export const AuditListItem = Type.Composite([
  AuditRecord,
  Type.Object({ actor_name: Nullable(Type.String()) }),
]);

export const AuditPage = Type.Object({
  items: Type.Array(AuditListItem),
  next_cursor: Nullable(Type.String()),
});

export const VerifyResponse = Type.Object({
  valid: Type.Boolean(),
  checked: Type.Integer(),
  first_invalid_id: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  anchored_at_seq: Type.Optional(Type.Integer()),
  verified_from_seq: Type.Optional(Type.Integer()),
});

export const VerifyJob = Type.Object({
  job_id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  checked: Type.Integer(),
  total: Type.Integer(),
  started_at: Type.String(),
  finished_at: Nullable(Type.String()),
  records_per_second: Type.Integer(),
  result: Nullable(VerifyResponse),
  error: Nullable(Type.String()),
});

const FilterObject = Type.Object(Filters);
/** The filters common to the listing and the export. */
export type Filters = Static<typeof FilterObject>;
export type ListQuery = Static<typeof ListQuery>;
export type ExportQuery = Static<typeof ExportQuery>;
