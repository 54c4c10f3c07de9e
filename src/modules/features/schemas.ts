import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, Timestamps } from '../../platform/http/schemas.js';

export const FlagKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{1,63}$', maxLength: 64 });
export const KeyParams = Type.Object({ key: FlagKey });
const ScopeSchema = Type.Union([Type.Literal('tenant'), Type.Literal('role'), Type.Literal('user')]);
/** A user id (integer) or a role id (uuid); absent for the tenant scope. */
const TargetId = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ minLength: 1, maxLength: 64 }),
  Type.Null(),
]);
const Percent = Type.Integer({ minimum: 0, maximum: 100 });

export const FlagRead = Type.Object({
  key: Type.String(),
  description: Type.String(),
  default_enabled: Type.Boolean(),
  rollout_percent: Nullable(Type.Integer()),
  ...Timestamps,
});

export const OverrideRead = Type.Object({
  key: Type.String(),
  scope: Type.String(),
  target_id: Nullable(Type.String()),
  enabled: Type.Boolean(),
  ...Timestamps,
});

export const FeatureList = Type.Object({
  features: Type.Array(Type.Object({ ...FlagRead.properties, overrides: Type.Array(OverrideRead) })),
});

export const EvaluateResponse = Type.Object({ flags: Type.Record(Type.String(), Type.Boolean()) });

export const OverrideBody = StrictObject({
  scope: ScopeSchema,
  target_id: Type.Optional(TargetId),
  enabled: Type.Boolean(),
});
/** DELETE takes the override's identity in the query string, or in a body for clients that send one. */
export const OverrideDeleteQuery = Type.Object({
  scope: Type.Optional(ScopeSchema),
  target_id: Type.Optional(Type.String({ maxLength: 64 })),
});
export const OverrideDeleteBody = StrictObject({
  scope: Type.Optional(ScopeSchema),
  target_id: Type.Optional(TargetId),
});

/** What a flag's owner may set, at creation or later; the key is fixed once created. */
const FlagSettings = {
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  default_enabled: Type.Optional(Type.Boolean()),
  rollout_percent: Type.Optional(Nullable(Percent)),
};
export const CreateFlagBody = StrictObject({ key: FlagKey, ...FlagSettings });
export const UpdateFlagBody = StrictObject(FlagSettings);

export type OverrideBody = Static<typeof OverrideBody>;
export type CreateFlagBody = Static<typeof CreateFlagBody>;
export type UpdateFlagBody = Static<typeof UpdateFlagBody>;
