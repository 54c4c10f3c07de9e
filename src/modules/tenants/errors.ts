/** The tenants module's error codes (texts of the shared ones are in platform/http/messages.ts). */
export type TenantsErrorCode =
  | 'TENANT_REQUIRED'
  | 'INVALID_TENANT'
  | 'BAD_REQUEST'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR';
