import { Type } from '@sinclair/typebox';
import { ClientDevice, ListOf, StrictObject, Timestamps, Uuid } from '../../platform/http/schemas.js';

export const SessionRead = Type.Object({
  id: Type.String(),
  user_id: Type.Integer(),
  tenant_id: Type.Integer(),
  is_active: Type.Boolean(),
  ...Timestamps,
  last_seen_at: Type.String(),
  ...ClientDevice,
  is_current: Type.Boolean(),
});

export const SessionList = ListOf('sessions', SessionRead, { active_count: Type.Integer() });
export const ListQuery = Type.Object({ include_inactive: Type.Optional(Type.Boolean({ default: false })) });
export const TerminateResponse = Type.Object({ terminated_count: Type.Integer(), message: Type.String() });
export const TerminateManyBody = StrictObject({
  session_ids: Type.Optional(Type.Array(Uuid, { maxItems: 500 })),
  // Sent by the existing MassaCorp clients; accepted and ignored: without session_ids every session but the
  // current one ends anyway, with them only those do.
  terminate_all: Type.Optional(Type.Boolean()),
});
