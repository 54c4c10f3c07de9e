/**
 * The end of a sign-in through the organisation's SSO (issue 20 item 11; the start is ../sso-signin.ts): the
 * API's callback sends the browser to `/admin/sso/callback?code=…&state=…` (or `?error=CODE`). The page checks
 * the state against the one this tab kept, then exchanges the code with the PKCE verifier at POST /sso/token and
 * signs in as a password would (tokens, or the second factor); a refusal says what to do, in the admin's language.
 */
import { useEffect, useState } from 'react';
import { ApiFailure, api, call } from '../api/client';
import { t } from '../i18n';
import type { MessageKey } from '../messages';
import { BASE, navigate } from '../router';
import { useSession } from '../session';
import { type Pending, SSO_CALLBACK, safeReturn, takePending } from '../sso-signin';
import { errorMessage, Link } from '../ui';
import { handOver } from './Authorize';
import { SignedOutCard, SignInScreen, signInWith, type Tokens } from './SignIn';

/** The API's refusal codes, as the admin should read them (any other: sso.signin.failed with the code). */
const REFUSALS: Record<string, MessageKey> = {
  SSO_STATE_INVALID: 'sso.signin.expired',
  SSO_CODE_INVALID: 'sso.signin.expired',
  SSO_TOKEN_EXPIRED: 'sso.signin.expired',
  SSO_USER_NOT_PROVISIONED: 'sso.signin.notProvisioned',
  SSO_LINK_REFUSED: 'sso.signin.linkRefused',
  SSO_GRANT_CEILING_EXCEEDED: 'sso.signin.ceiling',
  SSO_CONNECTION_DISABLED: 'sso.signin.disabled',
  ACCOUNT_INACTIVE: 'sso.signin.inactive',
  SSO_IDP_ERROR: 'sso.signin.idpError',
  SSO_IDP_UNAVAILABLE: 'sso.signin.idpUnavailable',
  SSO_EMAIL_MISSING: 'sso.signin.emailMissing',
  SSO_REQUIRED: 'sso.signin.required',
};
const refusal = (code: string) => (REFUSALS[code] ? t(REFUSALS[code]) : t('sso.signin.failed', { code }));

type Landing = { code: string; pending: Pending } | { refused: string; pending?: Pending };

/**
 * What the page was opened with, read once: the pending flow is spent (a second landing finds none) and the
 * query leaves the address bar and the history at once (no code bookmarked, sent in a reload or kept).
 */
function land(): Landing {
  const query = new URLSearchParams(window.location.search);
  const pending = takePending();
  window.history.replaceState(null, '', BASE + SSO_CALLBACK);
  // Login CSRF: a code (or an error) this tab did not ask for is never used, whatever it says.
  const state = query.get('state');
  if (!pending || !state || state !== pending.state) return { refused: t('sso.signin.stateInvalid') };
  const error = query.get('error');
  if (error) return { refused: refusal(error), pending };
  const code = query.get('code');
  return code ? { code, pending } : { refused: t('sso.signin.stateInvalid'), pending };
}

/** Read at most once per page load (React may render twice); the page is always reached by a full load. */
let landed: Landing | null = null;

export function SsoCallbackScreen() {
  const session = useSession();
  const [landing] = useState(() => {
    landed ??= land();
    return landed;
  });
  const [outcome, setOutcome] = useState<{ mfaToken: string; tenant: string } | { refused: string } | null>(
    'refused' in landing ? { refused: landing.refused } : null,
  );
  // Begun on an application's sign-in page (the OpenID Provider's): the tokens go back there, not to the console.
  const returnTo = safeReturn(landing.pending?.returnTo);
  async function finish(tenant: string, tokens: Tokens) {
    if (returnTo) {
      handOver(tenant, tokens);
      navigate(returnTo, { replace: true });
      return;
    }
    await signInWith(session, tenant, tokens);
    navigate('/', { replace: true });
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: once per landing (the session changes by this very sign-in)
  useEffect(() => {
    if (!('code' in landing)) return;
    const { code, pending } = landing;
    exchange(code, pending.verifier).then(
      async (res) => {
        if (res.mfa_required && res.mfa_session_token) {
          setOutcome({ mfaToken: res.mfa_session_token, tenant: pending.tenant });
        } else if (res.access_token && res.refresh_token && res.expires_in) {
          await finish(pending.tenant, {
            access_token: res.access_token,
            refresh_token: res.refresh_token,
            expires_in: res.expires_in,
          });
        } else {
          setOutcome({ refused: res.message });
        }
      },
      (err) => setOutcome({ refused: err instanceof ApiFailure ? refusal(err.code) : errorMessage(err) }),
    );
  }, [landing]);

  if (outcome && 'mfaToken' in outcome) {
    // The second factor of an application's sign-in: its tokens go back to that page too.
    const forApp = returnTo
      ? {
          tenant: outcome.tenant,
          title: t('signin.mfaTitle'),
          returnTo,
          onTokens: (tokens: Tokens) => finish(outcome.tenant, tokens),
        }
      : undefined;
    return <SignInScreen resume={outcome} forApp={forApp} />;
  }
  return (
    <SignedOutCard title={t('sso.signin.title')}>
      {outcome ? (
        <>
          <p className="error" role="alert">
            {outcome.refused}
          </p>
          <Link to={returnTo ?? '/'} className="signin-aside">
            {t('signin.back')}
          </Link>
        </>
      ) : (
        <p className="loading" aria-live="polite">
          {t('sso.signin.working')}
        </p>
      )}
    </SignedOutCard>
  );
}

/** One exchange per code: the code is single use, and a second render must not spend it again. */
const exchanges = new Map<string, ReturnType<typeof postToken>>();
const postToken = (code: string, verifier: string) =>
  call(api.POST('/api/v1/sso/token', { body: { code, code_verifier: verifier } }));
function exchange(code: string, verifier: string) {
  let p = exchanges.get(code);
  if (!p) {
    p = postToken(code, verifier);
    exchanges.set(code, p);
  }
  return p;
}
