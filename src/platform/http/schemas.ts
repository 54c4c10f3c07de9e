/** Shared TypeBox pieces: the envelopes of API.md §2 and common field types. */
import { type TSchema, Type } from '@sinclair/typebox';

export const ErrorEnvelope = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    request_id: Type.String(),
  },
  { $id: 'ErrorEnvelope' },
);

export const SuccessEnvelope = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Boolean(), message: Type.String(), data });

export const SuccessNoData = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Null(),
});

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
