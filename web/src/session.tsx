/**
 * Who is signed in, what they may do, and the console's runtime settings. Permissions come from
 * GET /api/v1/permissions/me; controls are hidden or disabled with them (the API enforces them anyway).
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import {
  api,
  call,
  clearTokens,
  hasAccessToken,
  onSessionEnded,
  refresh,
  storedRefreshToken,
} from './api/client';
import { covers } from './grants';

export interface ConsoleConfig {
  default_tenant: string | null;
  locales: string[];
  features: string[];
}

type Me = Awaited<ReturnType<typeof loadMe>>;

async function loadMe() {
  const me = await call(api.GET('/api/v1/auth/me'));
  // Until a required second factor is enrolled, only /auth and /mfa answer.
  const enrolling = me.mfa_required && !me.mfa_enabled;
  const [perms, tenant] = enrolling
    ? [{ permissions: [] as string[] }, null]
    : await Promise.all([
        call(api.GET('/api/v1/permissions/me')),
        call(api.GET('/api/v1/tenants/current')).catch(() => null),
      ]);
  return { me, enrolling, permissions: new Set(perms.permissions), tenant };
}

interface SessionValue {
  config: ConsoleConfig;
  user: Me | null;
  /** True while the stored refresh token is being tried at startup. */
  restoring: boolean;
  endedReason: string | null;
  can: (permission: string) => boolean;
  hasFeature: (module: string) => boolean;
  signedIn: () => Promise<void>;
  reloadUser: () => Promise<void>;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

export function SessionProvider({ config, children }: { config: ConsoleConfig; children: ReactNode }) {
  const [user, setUser] = useState<Me | null>(null);
  const [restoring, setRestoring] = useState(() => storedRefreshToken() !== null);
  const [endedReason, setEndedReason] = useState<string | null>(null);

  const reloadUser = useCallback(async () => {
    setUser(await loadMe());
  }, []);

  useEffect(() => {
    const off = onSessionEnded((reason) => {
      setUser(null);
      setEndedReason(reason);
    });
    if (storedRefreshToken()) {
      refresh()
        .then(async (ok) => {
          if (ok) await reloadUser();
        })
        .catch(() => clearTokens())
        .finally(() => setRestoring(false));
    }
    return off;
  }, [reloadUser]);

  const value = useMemo<SessionValue>(
    () => ({
      config,
      user,
      restoring,
      endedReason,
      can: (p) => user !== null && covers(user.permissions, p),
      hasFeature: (m) => config.features.includes(m),
      signedIn: async () => {
        setEndedReason(null);
        await reloadUser();
      },
      reloadUser,
      signOut: async () => {
        const refreshToken = storedRefreshToken();
        if (hasAccessToken()) {
          // Logout always ends the current session server-side; the refresh token goes with it.
          await api
            .POST('/api/v1/auth/logout', { body: refreshToken ? { refresh_token: refreshToken } : {} })
            .catch(() => undefined);
        }
        clearTokens();
        setEndedReason('signed_out');
        setUser(null);
      },
    }),
    [config, user, restoring, endedReason, reloadUser],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
