/** The tenants module's error catalogue (the tenant resolution the request guard asks it for answers these). */
import { defineErrors } from '../../platform/http/errors.js';

export const tenantsErrors = defineErrors({
  TENANT_REQUIRED: [400, 'En-tête X-Tenant-ID requis', 'X-Tenant-ID header is required'],
  INVALID_TENANT: [400, 'Identifiant de tenant invalide', 'Invalid tenant identifier'],
});
