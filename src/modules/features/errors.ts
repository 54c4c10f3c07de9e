/**
 * The feature flags module's errors: it declares no code of its own (an empty catalogue); both of its refusals
 * are the platform's generic codes.
 */
import { platformErrors } from '../../platform/http/errors.js';

/** 409: a flag key already in the catalogue. */
export const featureExists = () => platformErrors.error('ALREADY_EXISTS', { field: 'key' });
/** 403: the flag catalogue is the platform operators' (outside the platform tenant). */
export const notPlatformOperator = () =>
  platformErrors.error('PERMISSION_DENIED', { permission: 'platform.features' });
