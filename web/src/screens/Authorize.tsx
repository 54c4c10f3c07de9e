/**
 * The OpenID Provider's sign-in and consent page (docs/oidc-provider.md): an application sends its user to the
 * tenant's provider, which sends the browser here, `/admin/authorize?tenant={slug}&uid={uid}`. The page asks the
 * provider what the interaction needs (`GET /oidc/{slug}/interaction/{uid}/details`), then either signs the user in
 * to that organisation with the console's own sign-in (password, second factor, security key, SSO) and hands the
 * access token to the provider (`POST …/login`), or asks their consent to the application's scopes
 * (`POST …/consent` or `…/abort`). Each answer names where the browser goes next (`redirect_to`).
 *
 * The browser carries the provider's interaction cookie, scoped to `/oidc/{slug}/interaction/{uid}`: every call
 * goes to exactly those paths, same origin, with the cookie. The sign-in opens no console session: its tokens
 * are handed to the provider and dropped, so the console stays as it was (signed out, or signed in as before).
 */
import { useEffect, useState } from 'react';
import { ApiFailure, freshAccessToken } from '../api/client';
import { currentLocale, t } from '../i18n';
import type { MessageKey } from '../messages';
import { useSession } from '../session';
import { errorMessage } from '../ui';
import { SignedOutCard, SignInScreen, type Tokens } from './SignIn';

/** What the provider says about an interaction. */
export interface InteractionDetails {
  uid: string;
  prompt: 'login' | 'consent';
  tenant: { slug: string; name: string };
  client: { client_id: string; name: string; first_party: boolean };
  scopes: string[];
  login_hint: string | null;
  /** The application asks for a fresh sign-in: the console's current session may not continue. */
  fresh_login_required: boolean;
}

/** The console path of the page for an interaction (what the provider redirects to, under /admin). */
export function authorizePath(slug: string, uid: string): string {
  return `/authorize?${new URLSearchParams({ tenant: slug, uid })}`;
}

/** The provider's path of an interaction's endpoint: `details`, `login`, `consent` or `abort`. */
export function interactionPath(slug: string, uid: string, what: 'details' | 'login' | 'consent' | 'abort') {
  return `/oidc/${encodeURIComponent(slug)}/interaction/${encodeURIComponent(uid)}/${what}`;
}

/** A call to the interaction's endpoint, with its cookie; a refusal is thrown as ApiFailure (its envelope). */
async function interactionCall<T>(
  slug: string,
  uid: string,
  what: 'details' | 'login' | 'consent' | 'abort',
  accessToken?: string,
): Promise<T> {
  const res = await fetch(interactionPath(slug, uid, what), {
    method: what === 'details' ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      'accept-language': currentLocale(),
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
    },
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    throw new ApiFailure(res.status, {
      error: typeof body.error === 'string' ? body.error : `HTTP_${res.status}`,
      message: typeof body.message === 'string' ? body.message : res.statusText,
    });
  }
  return body as T;
}

export const fetchInteraction = (slug: string, uid: string) =>
  interactionCall<InteractionDetails>(slug, uid, 'details');
/** Hands the user's access token (of `slug`) to the provider: the user is signed in for the application. */
export const submitLogin = (slug: string, uid: string, accessToken: string) =>
  interactionCall<{ redirect_to: string }>(slug, uid, 'login', accessToken);

/**
 * A sign-in made only for the application: once the provider holds it, the API session it opened has served its
 * purpose (proof of who signed in, and when) and is ended, so the user's session list holds no orphan. Best
 * effort: the provider's sign-in does not depend on it.
 */
async function endHandedOverSession(tokens: Tokens): Promise<void> {
  await fetch('/api/v1/auth/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: tokens.refresh_token }),
  }).catch(() => undefined);
}

/** The provider's login with a sign-in made for the application, then that sign-in's API session ended. */
async function submitFreshLogin(slug: string, uid: string, tokens: Tokens) {
  const answer = await submitLogin(slug, uid, tokens.access_token);
  await endHandedOverSession(tokens);
  return answer;
}
export const submitConsent = (slug: string, uid: string) =>
  interactionCall<{ redirect_to: string }>(slug, uid, 'consent');
export const submitAbort = (slug: string, uid: string) =>
  interactionCall<{ redirect_to: string }>(slug, uid, 'abort');

/** The scopes a user is asked about, said in their language; unknown scopes are shown as they are. */
const SCOPE_TEXT: Record<string, MessageKey> = {
  openid: 'consent.scope.openid',
  profile: 'consent.scope.profile',
  email: 'consent.scope.email',
  offline_access: 'consent.scope.offline_access',
  roles: 'consent.scope.roles',
  permissions: 'consent.scope.permissions',
};
export function scopeText(scope: string): string {
  const key = SCOPE_TEXT[scope];
  return key ? t(key) : scope;
}

// ---- an SSO sign-in's way back ---------------------------------------------------------------------------
/**
 * Tokens an SSO sign-in brought back for an application (../screens/SsoSignIn.tsx), handed to this page in
 * memory (the callback navigates here without a reload): never stored, used once.
 */
let handedOver: { tenant: string; tokens: Tokens } | null = null;

export function handOver(tenant: string, tokens: Tokens): void {
  handedOver = { tenant, tokens };
}

/**
 * The provider's login for handed-over tokens, started once per interaction: a second run of the page's effect
 * (React's StrictMode in development) follows the same one instead of asking for a sign-in again.
 */
const handedLogins = new Map<string, Promise<{ redirect_to: string }>>();

function loginHandedOver(slug: string, uid: string): Promise<{ redirect_to: string }> | null {
  const key = `${slug}/${uid}`;
  let login = handedLogins.get(key);
  if (!login && handedOver?.tenant === slug) {
    login = submitFreshLogin(slug, uid, handedOver.tokens);
    login.catch(() => handedLogins.delete(key));
    handedLogins.set(key, login);
  }
  handedOver = null;
  return login ?? null;
}

// ---- the page ------------------------------------------------------------------------------------------
type Stage =
  | { kind: 'loading' }
  | { kind: 'failed'; text: string }
  | { kind: 'ready'; details: InteractionDetails }
  | { kind: 'leaving' };

function failureText(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.code === 'INTERACTION_EXPIRED') return t('authorize.expired');
    if (err.status === 404) return t('authorize.notFound');
  }
  return errorMessage(err);
}

/** The query the page was opened with; a missing part makes the link invalid. */
function readQuery(): { slug: string; uid: string } | null {
  const q = new URLSearchParams(window.location.search);
  const slug = q.get('tenant');
  const uid = q.get('uid');
  return slug && uid ? { slug, uid } : null;
}

export function AuthorizeScreen() {
  const [query] = useState(readQuery);
  const [stage, setStage] = useState<Stage>(() =>
    query ? { kind: 'loading' } : { kind: 'failed', text: t('authorize.invalid') },
  );
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  /** Runs one of the provider's steps, then follows where it sends the browser. */
  async function go(step: () => Promise<{ redirect_to: string }>) {
    setBusy(true);
    setActionError(null);
    try {
      const { redirect_to } = await step();
      setStage({ kind: 'leaving' });
      window.location.assign(redirect_to);
    } catch (err) {
      if (err instanceof ApiFailure && err.code === 'INTERACTION_EXPIRED')
        setStage({ kind: 'failed', text: failureText(err) });
      else setActionError(err);
    } finally {
      setBusy(false);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: once per interaction
  useEffect(() => {
    if (!query) return;
    const { slug, uid } = query;
    // Back from the identity provider with this organisation's tokens: straight to the provider.
    const login = loginHandedOver(slug, uid);
    if (login) {
      void go(() => login);
      return;
    }
    fetchInteraction(slug, uid).then(
      (details) => setStage({ kind: 'ready', details }),
      (err) => setStage({ kind: 'failed', text: failureText(err) }),
    );
  }, [query]);

  if (!query || stage.kind === 'failed') {
    return (
      <SignedOutCard title={t('authorize.failedTitle')}>
        <p className="error" role="alert">
          {stage.kind === 'failed' ? stage.text : t('authorize.invalid')}
        </p>
      </SignedOutCard>
    );
  }
  if (stage.kind !== 'ready') {
    return (
      <SignedOutCard title={t('authorize.title')}>
        <ActionError error={actionError} />
        {!actionError && (
          <p className="loading" aria-live="polite">
            {stage.kind === 'leaving' ? t('authorize.leaving') : t('common.loading')}
          </p>
        )}
      </SignedOutCard>
    );
  }
  const { details } = stage;
  const { slug, uid } = query;
  return details.prompt === 'consent' ? (
    <Consent
      details={details}
      busy={busy}
      error={actionError}
      onAllow={() => go(() => submitConsent(slug, uid))}
      onDeny={() => go(() => submitAbort(slug, uid))}
    />
  ) : (
    <Login
      details={details}
      busy={busy}
      error={actionError}
      onToken={(token) => go(() => submitLogin(slug, uid, token))}
      onFreshTokens={(tokens) => go(() => submitFreshLogin(slug, uid, tokens))}
      onCancel={() => go(() => submitAbort(slug, uid))}
    />
  );
}

function ActionError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {failureText(error)}
    </p>
  );
}

/** The application and the organisation the user signs in to. */
function ForWhom({ details }: { details: InteractionDetails }) {
  return (
    <p className="authorize-for">
      {t('authorize.forApp', { client: details.client.name, tenant: details.tenant.name })}
    </p>
  );
}

function Login(props: {
  details: InteractionDetails;
  busy: boolean;
  error: unknown;
  onToken: (accessToken: string) => Promise<void>;
  onFreshTokens: (tokens: Tokens) => Promise<void>;
  onCancel: () => void;
}) {
  const { details } = props;
  const session = useSession();
  const [otherAccount, setOtherAccount] = useState(false);
  const me = session.user;
  // The console's session, if any, is being restored (a reload): which account may continue is known next.
  if (session.restoring)
    return (
      <SignedOutCard title={t('authorize.title')}>
        <p className="loading" aria-live="polite">
          {t('common.loading')}
        </p>
      </SignedOutCard>
    );
  // Already signed in to the console in this organisation: that account may continue, with one click.
  // Unless the application asks for a fresh sign-in (prompt=login, max_age passed, an acr the session lacks).
  const current =
    !otherAccount && !details.fresh_login_required && me?.tenant?.slug === details.tenant.slug
      ? me.me.email
      : null;
  const intro = (
    <>
      <ForWhom details={details} />
      <ActionError error={props.error} />
    </>
  );
  const cancel = (
    <button type="button" className="btn-link" disabled={props.busy} onClick={props.onCancel}>
      {t('authorize.cancel')}
    </button>
  );
  if (current) {
    return (
      <SignedOutCard title={t('authorize.signInTitle', { client: details.client.name })}>
        {intro}
        <div className="stack">
          <button
            type="button"
            className="btn btn-primary btn-block"
            disabled={props.busy}
            onClick={async () => {
              const token = await freshAccessToken();
              if (token) await props.onToken(token);
              else setOtherAccount(true);
            }}
          >
            {t('authorize.continueAs', { email: current })}
          </button>
          <button type="button" className="btn btn-block" onClick={() => setOtherAccount(true)}>
            {t('authorize.otherAccount')}
          </button>
          {cancel}
        </div>
      </SignedOutCard>
    );
  }
  return (
    <SignInScreen
      forApp={{
        tenant: details.tenant.slug,
        email: details.login_hint ?? undefined,
        title: t('authorize.signInTitle', { client: details.client.name }),
        intro,
        returnTo: authorizePath(details.tenant.slug, details.uid),
        onTokens: (tokens) => props.onFreshTokens(tokens),
        footer: <p className="authorize-cancel">{cancel}</p>,
      }}
    />
  );
}

function Consent(props: {
  details: InteractionDetails;
  busy: boolean;
  error: unknown;
  onAllow: () => void;
  onDeny: () => void;
}) {
  const { details } = props;
  return (
    <SignedOutCard title={t('consent.title', { client: details.client.name })}>
      <ForWhom details={details} />
      <p id="consent-wants">{t('consent.wantsTo', { client: details.client.name })}</p>
      <ul className="consent-scopes" aria-labelledby="consent-wants">
        {details.scopes.map((s) => (
          <li key={s}>{SCOPE_TEXT[s] ? scopeText(s) : <code>{s}</code>}</li>
        ))}
      </ul>
      <ActionError error={props.error} />
      <div className="stack">
        <button
          type="button"
          className="btn btn-primary btn-block"
          disabled={props.busy}
          onClick={props.onAllow}
        >
          {t('consent.allow')}
        </button>
        <button type="button" className="btn btn-block" disabled={props.busy} onClick={props.onDeny}>
          {t('consent.deny')}
        </button>
      </div>
    </SignedOutCard>
  );
}
