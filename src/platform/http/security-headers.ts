/**
 * The security headers of every response (API.md §3), computed once. helmet builds them from the same options
 * as before, but once at boot against a recording response instead of once per request (@fastify/helmet
 * re-parses the CSP directives and rebuilds its middleware chain on every request: a sixth of /health's CPU).
 * The access hook sets them on the reply, so a route or plugin that sets its own (the admin console's and
 * /docs' CSP) still wins, errors and 404s included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export const SECURITY_HEADER_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      objectSrc: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      styleSrc: ["'self'", "'unsafe-inline'"],
      formAction: ["'self'"],
    },
  },
  hsts: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  crossOriginEmbedderPolicy: false,
};

/** The headers helmet sets with these options, as [lower-case name, value] pairs. */
export function securityHeaders(
  options: Readonly<HelmetOptions> = SECURITY_HEADER_OPTIONS,
): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
  };
  let failed: unknown = null;
  helmet(options as HelmetOptions)(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (err?: unknown) => {
      failed = err ?? null;
    },
  );
  if (failed) throw failed;
  return [...headers];
}
