/** The RBAC module's error catalogue (PERMISSION_DENIED, ALREADY_EXISTS, NOT_FOUND are the platform's). */
import { defineErrors } from '../../platform/http/errors.js';

export const rbacErrors = defineErrors({
  SYSTEM_ROLE_IMMUTABLE: [
    403,
    'Les rôles système ne peuvent être ni modifiés ni supprimés',
    'System roles cannot be changed or deleted',
  ],
  ROLE_CYCLE: [422, "L'héritage de rôles formerait un cycle", 'Role inheritance would form a cycle'],
  LAST_OWNER: [
    409,
    'Le dernier propriétaire du tenant ne peut pas être retiré',
    "The tenant's last owner cannot be removed",
  ],
});
