/** The feature flags module's error codes (a closed union; all are the platform's generic ones) and constructors. */
import { AppError, forbidden } from '../../platform/http/errors.js';

export type FeaturesErrorCode = 'ALREADY_EXISTS' | 'PERMISSION_DENIED';

/** 409: a flag key already in the catalogue. */
export const featureExists = () =>
  new AppError(409, 'ALREADY_EXISTS' satisfies FeaturesErrorCode, { field: 'key' });
/** 403: the flag catalogue is the platform operators' (outside the platform tenant). */
export const notPlatformOperator = () =>
  forbidden('PERMISSION_DENIED' satisfies FeaturesErrorCode, { permission: 'platform.features' });
