/**
 * The typed API client (openapi-fetch over the generated schema.d.ts) and the token store.
 *
 * Token storage (docs/console.md): the access token lives in memory only, so a script injected later cannot
 * find it in storage. The refresh token is kept in sessionStorage (this tab only, gone when the tab closes) so a
 * reload does not sign the administrator out; it is rotated on every use and a replay ends the whole session
 * server-side. Refreshes are single-flight: two concurrent requests never present the same refresh token twice.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import { currentLocale } from '../i18n';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

const REFRESH_KEY = 'massacorp.console.refresh';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

interface Tokens {
  access: string;
  expiresAt: number;
}

let tokens: Tokens | null = null;
let refreshTimer: number | undefined;
let inflight: Promise<boolean> | null = null;
const endedListeners = new Set<(reason: string) => void>();

export function onSessionEnded(fn: (reason: string) => void): () => void {
  endedListeners.add(fn);
  return () => endedListeners.delete(fn);
}

export function hasAccessToken(): boolean {
  return tokens !== null;
}

/** The console's access token, refreshed first when about to expire; null when the console is signed out. */
export async function freshAccessToken(): Promise<string | null> {
  if (tokens && tokens.expiresAt - Date.now() < 15_000) await refresh();
  return tokens?.access ?? null;
}

export function storedRefreshToken(): string | null {
  try {
    return window.sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

export function setTokens(t: { access_token: string; refresh_token: string; expires_in: number }): void {
  tokens = { access: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
  try {
    window.sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  } catch {
    // Storage disabled: the session lasts as long as the access token.
  }
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => void refresh(), Math.max(5_000, t.expires_in * 1000 - EARLY_MS));
}

export function clearTokens(): void {
  tokens = null;
  window.clearTimeout(refreshTimer);
  try {
    window.sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    // nothing stored
  }
}

/** Exchanges the stored refresh token for new tokens; false when there is none or the session has ended. */
export function refresh(): Promise<boolean> {
  inflight ??= (async () => {
    const refreshToken = storedRefreshToken();
    if (!refreshToken) return false;
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-language': currentLocale() },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      if (!res.ok) {
        // A network hiccup keeps the token for a later try; a refusal ends the session.
        if (res.status === 401 || res.status === 403) {
          const hadSession = tokens !== null;
          clearTokens();
          if (hadSession) for (const l of endedListeners) l('expired');
        }
        return false;
      }
      setTokens(await res.json());
      return true;
    } catch {
      return false;
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

const SESSION_CODES = new Set([
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'TOKEN_REVOKED',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'UNAUTHORIZED',
]);

const auth: Middleware = {
  async onRequest({ request }) {
    request.headers.set('accept-language', currentLocale());
    if (tokens && tokens.expiresAt - Date.now() < 15_000) await refresh();
    if (tokens && !request.headers.has('authorization')) {
      request.headers.set('authorization', `Bearer ${tokens.access}`);
    }
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('authorization')) {
      const body = (await response
        .clone()
        .json()
        .catch(() => null)) as { error?: string } | null;
      if (body?.error && SESSION_CODES.has(body.error)) {
        clearTokens();
        for (const l of endedListeners) l('expired');
      }
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** The API's error envelope (API.md §2). */
export interface ApiError {
  error: string;
  message: string;
  details?: Record<string, unknown>;
  request_id?: string;
}

export class ApiFailure extends Error {
  constructor(
    public readonly status: number,
    public readonly body: ApiError,
  ) {
    super(body.message || body.error);
  }
  get code(): string {
    return this.body.error;
  }
}

/** Unwraps an openapi-fetch result: the data, or throws ApiFailure with the envelope. */
export async function call<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await p;
  if (error !== undefined || !response.ok) {
    const body = (error ?? {}) as Partial<ApiError>;
    throw new ApiFailure(response.status, {
      error: body.error ?? `HTTP_${response.status}`,
      message: body.message ?? response.statusText,
      details: body.details,
      request_id: body.request_id,
    });
  }
  return data as NonNullable<T>;
}

/** A raw authenticated GET (downloads: audit export, peer config); returns the Response. */
export async function authedFetch(url: string): Promise<Response> {
  if (tokens && tokens.expiresAt - Date.now() < 15_000) await refresh();
  const res = await fetch(url, {
    headers: {
      'accept-language': currentLocale(),
      ...(tokens ? { authorization: `Bearer ${tokens.access}` } : {}),
    },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as Partial<ApiError>;
    throw new ApiFailure(res.status, {
      error: body.error ?? `HTTP_${res.status}`,
      message: body.message ?? res.statusText,
    });
  }
  return res;
}

/** Saves a Blob as a file through a temporary object URL (no inline script, CSP-safe). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
