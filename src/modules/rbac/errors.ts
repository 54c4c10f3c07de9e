/** The RBAC module's error codes and their texts. */
import { registerMessages } from '../../platform/http/messages.js';

export type RbacErrorCode =
  | 'SYSTEM_ROLE_IMMUTABLE'
  | 'ROLE_CYCLE'
  | 'LAST_OWNER'
  | 'PERMISSION_DENIED'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'VALIDATION_ERROR';

registerMessages({
  SYSTEM_ROLE_IMMUTABLE: {
    fr: 'Les rôles système ne peuvent être ni modifiés ni supprimés',
    en: 'System roles cannot be changed or deleted',
  },
  ROLE_CYCLE: { fr: "L'héritage de rôles formerait un cycle", en: 'Role inheritance would form a cycle' },
  LAST_OWNER: {
    fr: 'Le dernier propriétaire du tenant ne peut pas être retiré',
    en: "The tenant's last owner cannot be removed",
  },
});
