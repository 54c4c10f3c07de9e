import { validationError } from '../../platform/http/errors.js';
import { checkUrl, SsrfError } from '../../platform/net/ssrf.js';
import type { SsoDeps } from './deps.js';

/**
 * A URL a tenant admin gives the server to fetch (an OIDC issuer, SAML metadata) passes the SSRF guard's static
 * checks (scheme, host, address policy), else a 422 naming the field. The guard checks again when it connects.
 */
export function assertFetchable(ctx: Pick<SsoDeps, 'config'>, url: string, field: string): void {
  try {
    checkUrl(url, ctx.config.env);
  } catch (err) {
    if (err instanceof SsrfError) throw validationError(field, err.message, 'value_error.url');
    throw err;
  }
}
