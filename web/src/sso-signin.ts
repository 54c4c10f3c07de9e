/**
 * The start of a sign-in through the organisation's SSO (issue 20 item 11). The sign-in page asks
 * POST /sso/discover which connection the address belongs to (verified domains only), keeps a fresh PKCE verifier
 * and state for this tab (sessionStorage: it survives the trip to the identity provider, and no other tab or site
 * sees it) and sends the browser to the provider through authorize. The API's callback ends on the console's own
 * page (./screens/SsoSignIn.tsx), which every connection accepts for a PKCE-bound sign-in (docs/api-decisions.md).
 */
import { ApiFailure, api, call } from './api/client';
import { BASE } from './router';

const PENDING_KEY = 'massacorp.console.sso';
/** The console page the API's callback ends on (every connection accepts it for a PKCE-bound sign-in). */
export const SSO_CALLBACK = '/sso/callback';

/** What this tab keeps while the browser is at the identity provider. */
export interface Pending {
  state: string;
  verifier: string;
  tenant: string;
  /**
   * Where the callback goes once signed in, for an application's sign-in (the OpenID Provider's page,
   * `/authorize?tenant=…&uid=…`) instead of the console; only such paths are followed (safeReturn).
   */
  returnTo?: string;
}

/**
 * The console path a sign-in may come back to after the identity provider: only the OpenID Provider's sign-in
 * page of this console, by path (`/authorize?…`, no other page, origin or scheme); anything else is null.
 */
export function safeReturn(path: string | null | undefined): string | null {
  if (!path?.startsWith('/authorize?')) return null;
  try {
    const url = new URL(BASE + path, window.location.origin);
    if (url.origin !== window.location.origin || url.pathname !== `${BASE}/authorize`) return null;
    return url.pathname.slice(BASE.length) + url.search;
  } catch {
    return null;
  }
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
/** 32 random bytes: a 43-character verifier (RFC 7636 wants 43..128) or state. */
const randomToken = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/**
 * Sends the browser to the identity provider of the address's connection in this organisation; resolves to
 * 'none' (and stays) when discovery finds none, so the page offers the password instead.
 */
export async function startSsoSignIn(
  tenant: string,
  email: string,
  returnTo?: string,
): Promise<'none' | 'started'> {
  const header = { 'x-tenant-id': tenant };
  let connectionId: string;
  try {
    const found = await call(api.POST('/api/v1/sso/discover', { params: { header }, body: { email } }));
    connectionId = found.connection_id;
  } catch (err) {
    // No enabled connection with a verified domain for this address in this organisation (or no organisation).
    if (err instanceof ApiFailure && err.status === 404) return 'none';
    throw err;
  }
  const back = safeReturn(returnTo);
  const pending: Pending = {
    state: randomToken(),
    verifier: randomToken(),
    tenant,
    ...(back ? { returnTo: back } : {}),
  };
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier));
  const { auth_url } = await call(
    api.GET('/api/v1/sso/connections/{id}/authorize', {
      params: {
        header,
        path: { id: connectionId },
        query: {
          redirect_uri: window.location.origin + BASE + SSO_CALLBACK,
          state: pending.state,
          code_challenge: base64url(new Uint8Array(digest)),
          code_challenge_method: 'S256',
        },
      },
    }),
  );
  window.sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(auth_url);
  return 'started';
}

/** The flow this tab started, spent by reading it: a second landing on the callback page finds none. */
export function takePending(): Pending | null {
  try {
    const pending = JSON.parse(window.sessionStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
    window.sessionStorage.removeItem(PENDING_KEY);
    return pending;
  } catch {
    // storage disabled or garbled: no flow of ours
    return null;
  }
}
