/** The React side of grants.ts, in a file of its own: session.tsx imports grants.ts, and this hook reads the session. */
import { api, call } from './api/client';
import { grantableRoles } from './grants';
import { useSession } from './session';
import { useAsync } from './ui';

/**
 * For a dialog that hands rights on (an API key, an invitation), while it is open: the permission catalogue, what
 * the signed-in admin holds, and the roles they may grant. Both lists need `roles.read`; without it, no role.
 */
export function useGrantable(open: boolean) {
  const session = useSession();
  const held = session.user?.permissions ?? new Set<string>();
  // The catalogue turns a held wildcard into the permissions it covers.
  const lists = useAsync(
    async () =>
      open && session.can('roles.read')
        ? Promise.all([call(api.GET('/api/v1/permissions')), call(api.GET('/api/v1/roles'))])
        : null,
    [open],
  );
  const catalogue = lists.data?.[0];
  return { catalogue, held, roles: grantableRoles(lists.data?.[1].roles ?? [], held, catalogue) };
}
