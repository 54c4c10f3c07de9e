import { registerMessages } from '../../platform/http/messages.js';

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
