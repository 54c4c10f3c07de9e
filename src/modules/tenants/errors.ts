/** The tenants module's error codes (texts of the shared ones are in platform/http/messages.ts). */
import { AppError } from '../../platform/http/errors.js';

export type TenantsErrorCode =
  | 'TENANT_REQUIRED'
  | 'INVALID_TENANT'
  | 'BAD_REQUEST'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR';

export const tenantsError = (
  status: 400 | 404 | 409 | 422,
  code: TenantsErrorCode,
  details?: Record<string, unknown>,
  message?: string,
) => new AppError(status, code, details, undefined, message);
