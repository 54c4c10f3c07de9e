/**
 * Sign-in: organisation (tenant slug or id, prefilled from config.default_tenant and remembered), email and
 * password, then the second factor when the account has one: authenticator code, recovery code or security key.
 * Or, with the same organisation and email, the organisation's single sign-on (./SsoSignIn.tsx).
 */
import { startAuthentication } from '@simplewebauthn/browser';
import { type MouseEvent, type ReactNode, useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiFailure, api, call, setTokens } from '../api/client';
import { t } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';
import { startSsoSignIn } from '../sso-signin';
import {
  ErrorText,
  Form,
  type Held,
  Link,
  OneTimeCodeField,
  PasswordField,
  TextField,
  useSubmit,
} from '../ui';

const TENANT_KEY = 'massacorp.console.tenant';

/** The organisation last signed in to, else the server's default (config.json), else nothing. */
export function rememberedTenant(fallback: string | null): string {
  try {
    return window.localStorage.getItem(TENANT_KEY) ?? fallback ?? '';
  } catch {
    return fallback ?? '';
  }
}

type Method = 'totp' | 'recovery' | 'webauthn';
const METHOD_LABEL = {
  totp: 'signin.method.totp',
  recovery: 'signin.method.recovery',
  webauthn: 'signin.method.webauthn',
} as const;

export type Tokens = { access_token: string; refresh_token: string; expires_in: number };

/**
 * A sign-in for one of the organisation's applications (the OpenID Provider's sign-in, ./Authorize.tsx) rather
 * than for the console: the organisation is fixed, the email may be prefilled, and the tokens go to `onTokens`
 * instead of opening the console's session; an SSO sign-in comes back to `returnTo` (a console path).
 */
export interface SignInFor {
  tenant: string;
  email?: string;
  title: string;
  intro?: ReactNode;
  returnTo: string;
  /** Below the form: e.g. a way back to the application. */
  footer?: ReactNode;
  onTokens: (tokens: Tokens) => Promise<void>;
}

/** Opens the console's session with a sign-in's tokens (password or SSO), remembering the organisation. */
export async function signInWith(session: ReturnType<typeof useSession>, tenant: string, tokens: Tokens) {
  setTokens(tokens);
  try {
    window.localStorage.setItem(TENANT_KEY, tenant);
  } catch {
    // storage disabled
  }
  await session.signedIn();
}

/**
 * `resume`: the second-factor step of a sign-in begun elsewhere (an SSO sign-in whose account has MFA, from
 * /admin/sso/callback), which ends on the overview.
 */
export function SignInScreen({
  resume,
  forApp,
}: {
  resume?: { mfaToken: string; tenant: string };
  forApp?: SignInFor;
}) {
  const session = useSession();
  const { register, handleSubmit, getValues, setValue } = useForm({
    defaultValues: {
      tenant: forApp?.tenant ?? resume?.tenant ?? rememberedTenant(session.config.default_tenant),
      email: forApp?.email ?? '',
      password: '',
      code: '',
    },
  });
  const [mfaToken, setMfaToken] = useState<string | null>(resume?.mfaToken ?? null);
  const [method, setMethod] = useState<Method>('totp');
  const [noSso, setNoSso] = useState<string | null>(null);
  const { busy, error, setError, submit } = useSubmit();

  // The organisation typed before the second factor: its field is gone by then, its value kept by the form.
  const headers = () => ({ 'x-tenant-id': getValues('tenant').trim() });

  async function finish(tokens: Tokens) {
    // An application's sign-in leaves the console's own session as it was.
    if (forApp) return forApp.onTokens(tokens);
    await signInWith(session, getValues('tenant').trim(), tokens);
    if (resume) navigate('/', { replace: true });
  }

  /** The SSO button: the same organisation and email, then the identity provider (or, without SSO, the password). */
  async function continueWithSso(e: MouseEvent<HTMLButtonElement>) {
    const form = e.currentTarget.form;
    const fields = ['tenant', 'email'].map((n) => form?.elements.namedItem(n) as HTMLInputElement | null);
    if (!fields.every((f) => f?.reportValidity() ?? true)) return;
    setNoSso(null);
    const { tenant, email } = getValues();
    await submit(async () => {
      if ((await startSsoSignIn(tenant.trim(), email.trim(), forApp?.returnTo)) === 'none') {
        setNoSso(t('sso.signin.none', { email: email.trim() }));
        (form?.elements.namedItem('password') as HTMLInputElement | null)?.focus();
      }
    });
  }

  const submitPassword = handleSubmit(({ email, password }) =>
    submit(async () => {
      const res = await call(
        api.POST('/api/v1/auth/login', { params: { header: headers() }, body: { email, password } }),
      );
      if (res.mfa_required && res.mfa_session_token) {
        setMfaToken(res.mfa_session_token);
        setValue('password', '');
      } else if (res.access_token && res.refresh_token && res.expires_in) {
        await finish({
          access_token: res.access_token,
          refresh_token: res.refresh_token,
          expires_in: res.expires_in,
        });
      } else {
        setError(new Error(res.message));
      }
    }),
  );

  const submitCode = handleSubmit(({ code }) =>
    submit(async () => {
      if (!mfaToken) return;
      const body =
        method === 'totp'
          ? { mfa_session_token: mfaToken, totp_code: code.replace(/\s/g, '') }
          : { mfa_session_token: mfaToken, recovery_code: code.trim().toUpperCase() };
      await finish(await call(api.POST('/api/v1/auth/login/mfa', { params: { header: headers() }, body })));
    }),
  );

  async function signInWithKey() {
    if (!mfaToken) return;
    await submit(async () => {
      try {
        const options = await call(
          api.POST('/api/v1/auth/login/mfa/webauthn/options', {
            params: { header: headers() },
            body: { mfa_session_token: mfaToken },
          }),
        );
        const assertion = await startAuthentication({ optionsJSON: options as never });
        await finish(
          await call(
            api.POST('/api/v1/auth/login/mfa', {
              params: { header: headers() },
              body: { mfa_session_token: mfaToken, webauthn_response: assertion as never },
            }),
          ),
        );
      } catch (err) {
        // WebAuthn rejects with DOMExceptions and the like: shown as an Error.
        throw err instanceof ApiFailure || err instanceof Error ? err : new Error(String(err));
      }
    });
  }

  const ended = forApp
    ? null
    : session.endedReason === 'expired'
      ? t('signin.sessionEnded')
      : session.endedReason === 'signed_out'
        ? t('signin.signedOut')
        : null;

  return (
    <SignedOutCard title={mfaToken ? t('signin.mfaTitle') : (forApp?.title ?? t('signin.title'))}>
      {forApp?.intro}
      {ended && !mfaToken && (
        <p className="notice" role="status">
          {ended}
        </p>
      )}
      {!mfaToken ? (
        <Form onSubmit={submitPassword} error={error} className="stack">
          <AccountFields
            tenant={forApp ? undefined : { reg: register('tenant') }}
            email={{ reg: register('email') }}
            autoFocus={Boolean(forApp && !forApp.email)}
          />
          <PasswordField
            label={t('signin.password')}
            reg={register('password')}
            required
            autoComplete="current-password"
            name="password"
            autoFocus={Boolean(forApp?.email)}
          />
          <SubmitStep busy={busy} error={error} label={t('signin.submit')} />
          <p className="signin-or" aria-hidden="true">
            {t('sso.signin.or')}
          </p>
          <button type="button" className="btn btn-block" disabled={busy} onClick={continueWithSso}>
            {t('sso.signin.button')}
          </button>
          {noSso && (
            <p className="notice" role="status">
              {noSso}
            </p>
          )}
          {/* The reset pages would leave the application's sign-in: offered on the console's only. */}
          {!forApp && (
            <Link to="/forgot-password" className="signin-aside">
              {t('reset.forgot')}
            </Link>
          )}
        </Form>
      ) : (
        <>
          <div className="tabs" role="tablist" aria-label={t('signin.mfaMethod')}>
            {(['totp', 'recovery', 'webauthn'] as const).map((m) => (
              <button
                key={m}
                type="button"
                role="tab"
                aria-selected={method === m}
                className={method === m ? 'tab tab-on' : 'tab'}
                onClick={() => {
                  setMethod(m);
                  setValue('code', '');
                  setError(null);
                }}
              >
                {t(METHOD_LABEL[m])}
              </button>
            ))}
          </div>
          {method === 'webauthn' ? (
            <div className="stack" role="tabpanel">
              <p>{t('signin.webauthnHelp')}</p>
              <ErrorText error={error} />
              <button
                type="button"
                className="btn btn-primary btn-block"
                disabled={busy}
                onClick={signInWithKey}
              >
                {t('signin.useKey')}
              </button>
            </div>
          ) : (
            <form onSubmit={submitCode} className="stack" role="tabpanel">
              <OneTimeCodeField
                key={method}
                kind={method}
                label={method === 'totp' ? t('signin.totpCode') : t('signin.recoveryCode')}
                hint={method === 'totp' ? t('signin.totpHint') : t('signin.recoveryHint')}
                reg={register('code')}
                required
                autoFocus
                name="code"
              />
              <SubmitStep busy={busy} error={error} label={t('signin.verify')} />
            </form>
          )}
          <button
            type="button"
            className="btn-link"
            onClick={() => {
              setMfaToken(null);
              setValue('code', '');
              setError(null);
            }}
          >
            {t('signin.back')}
          </button>
        </>
      )}
      {forApp?.footer}
    </SignedOutCard>
  );
}

/**
 * Which account: the organisation (its header names it: x-tenant-id) and the email, as password managers know
 * them. Without `tenant` the organisation is fixed by the page (an application's sign-in) and not asked.
 */
export function AccountFields(props: { tenant?: Held<string>; email: Held<string>; autoFocus?: boolean }) {
  return (
    <>
      {props.tenant && (
        <TextField
          label={t('signin.tenant')}
          hint={t('signin.tenantHint')}
          {...props.tenant}
          required
          autoComplete="organization"
          name="tenant"
          field="x-tenant-id"
        />
      )}
      <TextField
        label={t('signin.email')}
        type="email"
        {...props.email}
        required
        autoComplete="username"
        name="email"
        autoFocus={props.autoFocus}
      />
    </>
  );
}

/** The frame of the pages seen signed out (sign-in, forgotten password, new password): brand, title, content. */
export function SignedOutCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <div className="signin-brand">
          <img src="/admin/favicon.svg" alt="" width="40" height="40" />
          <div>
            <p className="signin-product">MassaCorp</p>
            <p className="signin-tag">{t('signin.tagline')}</p>
          </div>
        </div>
        <h1 tabIndex={-1} id="page-title">
          {title}
        </h1>
        {children}
      </div>
    </main>
  );
}

/** The end of a signed-out page's form: its error, then its button, which says to wait while the step runs. */
export function SubmitStep({ busy, error, label }: { busy: boolean; error: unknown; label: string }) {
  return (
    <>
      <ErrorText error={error} />
      <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
        {busy ? t('common.wait') : label}
      </button>
    </>
  );
}
