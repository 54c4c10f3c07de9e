/** The tenant-admin module's error catalogue. */
import { defineErrors } from '../../platform/http/errors.js';

export const tenantAdminErrors = defineErrors({
  OWN_TENANT: [
    400,
    'Action impossible sur votre propre tenant',
    'This action is not allowed on your own tenant',
  ],
});
