/**
 * Shared TypeBox pieces: the envelopes of API.md §2, common field types, and the field groups and builders that
 * several modules' schemas are made of (a module's schemas.ts declares only what is its own). Property order
 * shows in the OpenAPI document, so a group is spread where its fields stand.
 */
import {
  type TArray,
  type TInteger,
  type TObject,
  type TProperties,
  type TSchema,
  Type,
} from '@sinclair/typebox';

export const ErrorEnvelope = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    request_id: Type.String(),
  },
  { $id: 'ErrorEnvelope' },
);

/** The head of every answer that says it worked and why, in the caller's language. */
export const Acknowledgement = { success: Type.Boolean(), message: Type.String() };

export const SuccessEnvelope = <T extends TSchema>(data: T) => Type.Object({ ...Acknowledgement, data });

export const SuccessNoData = SuccessEnvelope(Type.Null());

export const Email = Type.String({ format: 'email', maxLength: 254 });
export const IntId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
export const Uuid = Type.String({ format: 'uuid' });
export const DateTime = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** Standard error responses, so OpenAPI lists them and serialisation stays predictable. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorEnvelope')]));

export const IdParams = Type.Object({ id: IntId });
export const UuidParams = Type.Object({ id: Uuid });

/** A password as a body carries it: the policy (platform/crypto/password-policy.ts) judges it, not the schema. */
export const PasswordInput = Type.String({ minLength: 1, maxLength: 128 });

/** A stored row's times, as the read schemas answer them. */
export const Timestamps = { created_at: Type.String(), updated_at: Type.String() };

/** Where a client connected from: its address, its user agent, and the device, browser and OS read from it. */
export const ClientDevice = {
  ip_address: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  device_type: Nullable(Type.String()),
  browser: Nullable(Type.String()),
  os: Nullable(Type.String()),
};

/** An object that refuses unknown fields (a 422), not ignores them: request bodies and the objects inside them. */
export const StrictObject = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/**
 * A list answer: the items under their own name, then `total`, then what this list adds (counts, a cursor).
 * `ListOf('roles', RoleRead)` is `{ roles: RoleRead[], total: number }`.
 */
export const ListOf = <K extends string, T extends TSchema, E extends TProperties = Record<never, never>>(
  name: K,
  item: T,
  extra?: E,
) =>
  // A computed key types as a string index; the cast names the one key it is.
  Type.Object({ [name]: Type.Array(item), total: Type.Integer(), ...extra }) as TObject<
    Record<K, TArray<T>> & { total: TInteger } & E
  >;

/**
 * Offset paging for a list query, spread into it: `skip` and `limit`. A few older lists leave `skip` without an
 * upper bound (maxSkip: null); the bounds are part of the published contract.
 */
export const offsetPaging = ({
  maxSkip = 1_000_000,
  maxLimit = 100,
  defaultLimit = 20,
}: OffsetPagingBounds = {}) => ({
  skip: Type.Optional(
    Type.Integer(
      maxSkip === null ? { minimum: 0, default: 0 } : { minimum: 0, maximum: maxSkip, default: 0 },
    ),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit, default: defaultLimit })),
});
export interface OffsetPagingBounds {
  maxSkip?: number | null;
  maxLimit?: number;
  defaultLimit?: number;
}
