/** The shell: sign-in when nobody is signed in, else the navigation and the current screen. */
import { type ReactNode, useEffect, useState } from 'react';
import { setLocale, t, useLocale } from './i18n';
import type { MessageKey } from './messages';
import { match, navigate, usePath } from './router';
import { ApiKeysScreen } from './screens/ApiKeys';
import { AuditScreen } from './screens/Audit';
import { AuthorizeScreen } from './screens/Authorize';
import { DirectoryScreen } from './screens/Directory';
import { FeaturesScreen } from './screens/Features';
import { AcceptInviteScreen } from './screens/Invitations';
import { OidcClientScreen, OidcClientsScreen } from './screens/OidcClients';
import { OverviewScreen } from './screens/Overview';
import { ForgotPasswordScreen, ResetPasswordScreen } from './screens/PasswordReset';
import { ProfileScreen } from './screens/Profile';
import { RolesScreen } from './screens/Roles';
import { SessionsScreen } from './screens/Sessions';
import { SettingsScreen } from './screens/Settings';
import { SignInScreen } from './screens/SignIn';
import { SsoConnectionScreen, SsoScreen, SsoTestResultScreen } from './screens/Sso';
import { SsoCallbackScreen } from './screens/SsoSignIn';
import { UserDetailScreen } from './screens/UserDetail';
import { UsersScreen } from './screens/Users';
import { WebhookScreen, WebhooksScreen } from './screens/Webhooks';
import { WireguardScreen } from './screens/Wireguard';
import { type ConsoleConfig, SessionProvider, useSession } from './session';
import { setTheme, useTheme } from './theme';
import { Loading, Toasts } from './ui';

interface Screen {
  path: string;
  label: MessageKey;
  /** The feature module that must run on the server, and the permission that shows the screen. */
  module: string;
  permission: string | null;
  nav: boolean;
  render: (params: Record<string, string>) => ReactNode;
}

const SCREENS: Screen[] = [
  {
    path: '/',
    label: 'nav.overview',
    module: 'auth',
    permission: null,
    nav: true,
    render: () => <OverviewScreen />,
  },
  {
    path: '/users',
    label: 'nav.users',
    module: 'users',
    permission: 'users.read',
    nav: true,
    render: () => <UsersScreen />,
  },
  {
    path: '/users/:id',
    label: 'nav.users',
    module: 'users',
    permission: 'users.read',
    nav: false,
    render: (p) => <UserDetailScreen id={Number(p.id)} />,
  },
  {
    path: '/roles',
    label: 'nav.roles',
    module: 'rbac',
    permission: 'roles.read',
    nav: true,
    render: () => <RolesScreen />,
  },
  {
    path: '/api-keys',
    label: 'nav.apiKeys',
    module: 'api-keys',
    permission: 'api_keys.read',
    nav: true,
    render: () => <ApiKeysScreen />,
  },
  {
    path: '/audit',
    label: 'nav.audit',
    module: 'audit',
    permission: 'audit.read',
    nav: true,
    render: () => <AuditScreen />,
  },
  {
    path: '/wireguard',
    label: 'nav.wireguard',
    module: 'wireguard',
    permission: 'wireguard.read',
    nav: true,
    render: () => <WireguardScreen />,
  },
  {
    path: '/sso',
    label: 'nav.sso',
    module: 'sso',
    permission: 'sso.read',
    nav: true,
    render: () => <SsoScreen />,
  },
  {
    path: '/sso/:id',
    label: 'nav.sso',
    module: 'sso',
    permission: 'sso.read',
    nav: false,
    render: (p) => <SsoConnectionScreen id={p.id!} />,
  },
  {
    path: '/sso/:id/test',
    label: 'nav.sso',
    module: 'sso',
    permission: 'sso.write',
    nav: false,
    render: (p) => <SsoTestResultScreen id={p.id!} />,
  },
  {
    path: '/directory',
    label: 'nav.directory',
    module: 'scim',
    permission: 'directory.read',
    nav: true,
    render: () => <DirectoryScreen />,
  },
  {
    path: '/webhooks',
    label: 'nav.webhooks',
    module: 'webhooks',
    permission: 'webhooks.read',
    nav: true,
    render: () => <WebhooksScreen />,
  },
  {
    path: '/webhooks/:id',
    label: 'nav.webhooks',
    module: 'webhooks',
    permission: 'webhooks.read',
    nav: false,
    render: (p) => <WebhookScreen id={p.id!} />,
  },
  {
    path: '/applications',
    label: 'nav.oidcClients',
    module: 'oidc-clients',
    permission: 'oidc.clients.read',
    nav: true,
    render: () => <OidcClientsScreen />,
  },
  {
    path: '/applications/:id',
    label: 'nav.oidcClients',
    module: 'oidc-clients',
    permission: 'oidc.clients.read',
    nav: false,
    render: (p) => <OidcClientScreen id={p.id!} />,
  },
  {
    path: '/features',
    label: 'nav.features',
    module: 'features',
    permission: 'features.read',
    nav: true,
    render: () => <FeaturesScreen />,
  },
  {
    path: '/settings',
    label: 'nav.settings',
    module: 'tenants',
    permission: 'tenants.manage',
    nav: true,
    render: () => <SettingsScreen />,
  },
  {
    path: '/sessions',
    label: 'nav.sessions',
    module: 'sessions',
    permission: null,
    nav: true,
    render: () => <SessionsScreen />,
  },
  {
    path: '/profile',
    label: 'nav.profile',
    module: 'users',
    permission: null,
    nav: true,
    render: () => <ProfileScreen />,
  },
];

export function App({ config }: { config: ConsoleConfig }) {
  return (
    <SessionProvider config={config}>
      <a className="skip" href="#main">
        {t('nav.skip')}
      </a>
      <Shell />
      <Toasts />
    </SessionProvider>
  );
}

function LocaleSwitch() {
  const locale = useLocale();
  return (
    <fieldset className="locale">
      <legend className="sr-only">{t('nav.language')}</legend>
      {(['fr', 'en'] as const).map((l) => (
        <button
          key={l}
          type="button"
          className={l === locale ? 'locale-on' : ''}
          aria-pressed={l === locale}
          lang={l}
          onClick={() => setLocale(l)}
        >
          {l === 'fr' ? 'FR' : 'EN'}
        </button>
      ))}
    </fieldset>
  );
}

/** The dark theme on or off (remembered); until pressed, the system's prefers-color-scheme decides. */
function ThemeSwitch() {
  const theme = useTheme();
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      className="theme-toggle"
      aria-pressed={dark}
      title={t('nav.darkTheme')}
      onClick={() => setTheme(dark ? 'light' : 'dark')}
    >
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span>
      <span className="sr-only">{t('nav.darkTheme')}</span>
    </button>
  );
}

/** Pages shown whether or not someone is signed in, in the sign-in page's frame. */
const SIGNED_OUT_PAGES: Record<string, () => ReactNode> = {
  '/forgot-password': () => <ForgotPasswordScreen />,
  '/reset-password': () => <ResetPasswordScreen />,
  '/accept-invite': () => <AcceptInviteScreen />,
  // The end of an SSO sign-in: it signs in, then goes to the overview.
  '/sso/callback': () => <SsoCallbackScreen />,
  // The tenant's OpenID Provider sends its users here to sign in or consent for one of its applications.
  '/authorize': () => <AuthorizeScreen />,
};

function SignedOutShell({ children }: { children: ReactNode }) {
  return (
    <>
      <div className="signin-locale">
        <ThemeSwitch />
        <LocaleSwitch />
      </div>
      {children}
    </>
  );
}

function Shell() {
  const session = useSession();
  const path = usePath();
  useLocale(); // re-render on language change
  const [menuOpen, setMenuOpen] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on navigation only
  useEffect(() => {
    setMenuOpen(false);
    // Move focus to the new page's title, so screen readers announce the navigation.
    window.setTimeout(() => document.getElementById('page-title')?.focus({ preventScroll: false }), 0);
  }, [path]);

  // The pages of a forgotten password are reached signed out (from the sign-in page, or the mail's link).
  const signedOut = SIGNED_OUT_PAGES[path];
  if (signedOut) return <SignedOutShell>{signedOut()}</SignedOutShell>;
  if (session.restoring) {
    return (
      <main id="main" className="center">
        <Loading />
      </main>
    );
  }
  if (!session.user) {
    return (
      <SignedOutShell>
        <SignInScreen />
      </SignedOutShell>
    );
  }

  const visible = SCREENS.filter(
    (s) =>
      session.hasFeature(s.module) &&
      (s.permission === null || session.can(s.permission)) &&
      // A user who must still enrol a second factor sees only their profile until they do.
      (!session.user!.enrolling || s.path === '/profile'),
  );
  let content: ReactNode = null;
  let title = '';
  for (const s of visible) {
    const params = match(s.path, path);
    if (params) {
      content = s.render(params);
      title = t(s.label);
      break;
    }
  }
  if (!content) {
    if (session.user.enrolling) {
      content = <ProfileScreen />;
      title = t('nav.profile');
    } else {
      content = (
        <div className="page">
          <h1 tabIndex={-1} id="page-title">
            {t('common.notFound')}
          </h1>
          <p>
            <a
              href="/admin/"
              onClick={(e) => {
                e.preventDefault();
                navigate('/');
              }}
            >
              {t('nav.overview')}
            </a>
          </p>
        </div>
      );
    }
  }
  document.title = title ? `${title} · MassaCorp` : 'MassaCorp Console';
  const me = session.user.me;

  return (
    <div className="layout">
      <header className="topbar">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span className="sr-only">{t('nav.menu')}</span>
          <span aria-hidden="true">☰</span>
        </button>
        <a
          className="brand"
          href="/admin/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          <img src="/admin/favicon.svg" alt="" width="24" height="24" />
          <span>MassaCorp</span>
        </a>
        <span className="tenant-name" title={session.user.tenant?.slug}>
          {session.user.tenant?.name ?? `#${me.tenant_id}`}
        </span>
        <div className="topbar-right">
          <ThemeSwitch />
          <LocaleSwitch />
          <span className="who">{me.email}</span>
          <button type="button" className="btn btn-small" onClick={() => void session.signOut()}>
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <nav id="nav" className={menuOpen ? 'nav nav-open' : 'nav'} aria-label={t('nav.main')}>
        <ul>
          {visible
            .filter((s) => s.nav)
            .map((s) => {
              const active = s.path === '/' ? path === '/' : path === s.path || path.startsWith(`${s.path}/`);
              return (
                <li key={s.path}>
                  <a
                    href={`/admin${s.path === '/' ? '/' : s.path}`}
                    aria-current={active ? 'page' : undefined}
                    onClick={(e) => {
                      if (e.metaKey || e.ctrlKey || e.shiftKey) return;
                      e.preventDefault();
                      navigate(s.path);
                    }}
                  >
                    {t(s.label)}
                  </a>
                </li>
              );
            })}
        </ul>
      </nav>
      <main id="main" className="main">
        {content}
      </main>
    </div>
  );
}
