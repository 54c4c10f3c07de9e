/** The tenant-admin module's error codes and their texts. */
import { registerMessages } from '../../platform/http/messages.js';

export type TenantAdminErrorCode =
  | 'OWN_TENANT'
  | 'BAD_REQUEST'
  | 'ALREADY_EXISTS'
  | 'EMAIL_ALREADY_EXISTS'
  | 'PASSWORD_TOO_WEAK'
  | 'NOT_FOUND';

registerMessages({
  OWN_TENANT: {
    fr: 'Action impossible sur votre propre tenant',
    en: 'This action is not allowed on your own tenant',
  },
});
