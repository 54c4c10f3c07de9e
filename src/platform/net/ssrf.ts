/**
 * SSRF guard for every URL a tenant admin can give the server to fetch (OIDC issuers and what their discovery
 * documents name, SAML metadata, ...), API.md §17:
 * - https only; plain http only to a loopback host, and only when ENV=dev|test;
 * - in staging and prod, never to an address that is not global unicast: private (10/8, 172.16/12, 192.168/16),
 *   loopback, link-local (169.254/16, the cloud metadata address included; fe80::/10), unique-local (fc00::/7),
 *   CGNAT (100.64/10), unspecified, multicast, reserved; an IPv6 address that carries an IPv4 one (IPv4-mapped,
 *   IPv4-compatible, NAT64, 6to4, Teredo) is judged by that IPv4 address or refused (addressAllowed);
 * - every address the host resolves to is checked, at connect time (the socket's own DNS lookup is the checked
 *   one, so a name that resolves to a public address when checked and to 127.0.0.1 when connecting cannot pass);
 * - redirects are followed by hand, each hop checked again (at most MAX_REDIRECTS), or handed back untouched to
 *   callers that ask for `redirect: 'manual'`; credentials never follow a redirect to another origin, and neither
 *   does a request body (a 307/308 to another origin with a body is refused: a `client_secret_post` secret).
 * `guardedFetch` has the signature of fetch, for libraries that take a custom fetch (openid-client's customFetch).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type SsrfEnvironment = 'dev' | 'test' | 'staging' | 'prod';

export class SsrfError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'SsrfError';
  }
}

const MAX_REDIRECTS = 3;
const MAX_BODY_BYTES = 1024 * 1024;
const TIMEOUT_MS = 10_000;

export interface SsrfOptions {
  env: SsrfEnvironment;
  /** Resolver override (tests); defaults to the system's dns.lookup. */
  lookup?: typeof dns.lookup;
}

const relaxed = (env: SsrfEnvironment) => env === 'dev' || env === 'test';

/** NAT64 well-known prefix (RFC 6052): a translator delivers to the IPv4 address in the last 32 bits. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];
/** IPv4-compatible addresses (deprecated, RFC 4291 §2.5.5.1): `::a9fe:a9fe` is ::169.254.169.254. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

/** The IPv4 address carried in the last 32 bits of an IPv6 address. */
const embeddedIPv4 = (addr: ipaddr.IPv6) => ipaddr.fromByteArray(addr.toByteArray().slice(12));

/**
 * Whether one address may be reached under the environment's policy. An IPv6 address that carries an IPv4 one is
 * judged by the IPv4 address, because that is where the packets end up:
 * - IPv4-mapped (`::ffff:a.b.c.d`, what a dual-stack socket reports) and NAT64 well-known (`64:ff9b::a.b.c.d`,
 *   what DNS64 hands an IPv6-only cluster for an IPv4-only IdP): allowed only when the IPv4 address is public;
 * - IPv4-compatible (`::a.b.c.d`): deprecated since 2006, no IdP has one, and ipaddr.js ranges it as plain
 *   unicast (the finding: `::a9fe:a9fe` passed), so refused whatever it embeds;
 * - 6to4 (2002::/16), Teredo (2001::/32), IPv4-translated (::ffff:0:a.b.c.d), NAT64 local-use
 *   (64:ff9b:1::/48): ipaddr.js ranges them as non-unicast, so they are refused whatever they embed (deprecated
 *   or network-specific relays that a public IdP does not sit behind).
 */
export function addressAllowed(address: string, env: SsrfEnvironment): boolean {
  if (relaxed(env)) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress() || v6.match(NAT64_WELL_KNOWN)) return embeddedIPv4(v6).range() === 'unicast';
  if (v6.match(IPV4_COMPATIBLE)) return false;
  return v6.range() === 'unicast';
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (!isIP(h)) return false;
  const addr = ipaddr.parse(h);
  return addr.range() === 'loopback'; // ipaddr.js ranges ::1 as loopback too
}

/**
 * The syntactic half, without any DNS: an absolute https URL (http to loopback in dev/test), no credentials in
 * it, and an IP literal host already within policy. Used when a URL is saved (422 early) and before every fetch.
 */
export function checkUrl(raw: string | URL, env: SsrfEnvironment): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new SsrfError('not an absolute URL', String(raw));
  }
  if (url.username || url.password) throw new SsrfError('credentials in URL', url.href);
  if (url.protocol === 'http:') {
    if (!(relaxed(env) && isLoopbackHost(url.hostname)))
      throw new SsrfError('plain http is only allowed to loopback in dev and test', url.href);
  } else if (url.protocol !== 'https:') {
    throw new SsrfError(`scheme ${url.protocol} refused`, url.href);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !addressAllowed(host, env)) throw new SsrfError(`address ${host} refused`, url.href);
  if (!relaxed(env) && (host === 'localhost' || host.endsWith('.localhost')))
    throw new SsrfError('loopback host refused', url.href);
  return url;
}

/** A socket lookup that refuses, at connect time, any resolved address outside policy. */
export function guardedLookup(opts: SsrfOptions): LookupFunction {
  const lookup = opts.lookup ?? dns.lookup;
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as unknown as dns.LookupAddress[];
      const refused = list.find((a) => !addressAllowed(a.address, opts.env));
      if (list.length === 0) return callback(new SsrfError(`${hostname} has no address`, hostname));
      if (refused)
        return callback(
          new SsrfError(`${hostname} resolves to refused address ${refused.address}`, hostname),
        );
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  }) as LookupFunction;
}

/** Resolves the host of a URL and checks every address (discovery re-check, without fetching). */
export async function checkResolvedUrl(raw: string | URL, opts: SsrfOptions): Promise<URL> {
  const url = checkUrl(raw, opts.env);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return url;
  await new Promise<void>((resolve, reject) =>
    guardedLookup(opts)(host, { all: true }, (err) => (err ? reject(err) : resolve())),
  );
  return url;
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

function requestOnce(url: URL, init: RequestInit, opts: SsrfOptions): Promise<RawResponse> {
  const headers = new Headers(init.headers);
  const body =
    init.body == null
      ? undefined
      : typeof init.body === 'string'
        ? init.body
        : init.body instanceof URLSearchParams
          ? init.body.toString()
          : init.body instanceof Uint8Array
            ? Buffer.from(init.body)
            : undefined;
  if (init.body != null && body === undefined) throw new TypeError('guardedFetch: unsupported body type');
  if (init.body instanceof URLSearchParams && !headers.has('content-type'))
    headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
  const mod = url.protocol === 'https:' ? https : http;
  const signal = init.signal;
  return new Promise((settle, fail) => {
    if (signal?.aborted) {
      fail(new Error('aborted'));
      return;
    }
    // The listener goes as soon as the request is answered or fails: a caller's signal may live long after
    // (AbortSignal.timeout lives until its timer fires), and its listener would keep the request, its socket and
    // the body it read alive (6,100 of them on the heap after a burst of 10,000 webhook deliveries).
    const onAbort = () => req.destroy(new Error('aborted'));
    const resolve = (r: RawResponse) => {
      signal?.removeEventListener('abort', onAbort);
      settle(r);
    };
    const reject = (e: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      fail(e);
    };
    const req = mod.request(
      url,
      {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers.entries()),
        lookup: guardedLookup(opts),
        timeout: TIMEOUT_MS,
        // No agent reuse: a pooled socket would skip the lookup of a later request.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new SsrfError('response too large', url.href));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const one of v) h.append(k, one);
            else if (v !== undefined) h.set(k, String(v));
          }
          resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new SsrfError('request timed out', url.href)));
    req.on('error', reject);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function withoutHeaders(headers: RequestInit['headers'], names: readonly string[]): Headers {
  const kept = new Headers(headers);
  for (const name of names) kept.delete(name);
  return kept;
}
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'] as const;
/** Fetch's "request-body-header names": dropped with the body when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
  'content-length',
] as const;

/** fetch through the guard. Redirects: followed by hand with each hop re-checked, unless `redirect: 'manual'`. */
export function createGuardedFetch(opts: SsrfOptions) {
  return async function guardedFetch(
    input: string | URL | Request,
    init: RequestInit = {},
  ): Promise<Response> {
    if (input instanceof Request) throw new TypeError('guardedFetch takes a URL, not a Request');
    let url = checkUrl(input, opts.env);
    let current = init;
    for (let hop = 0; ; hop++) {
      const res = await requestOnce(url, current, opts);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && current.redirect !== 'manual') {
        if (current.redirect === 'error') throw new SsrfError('redirect refused', url.href);
        if (hop >= MAX_REDIRECTS) throw new SsrfError('too many redirects', url.href);
        const next = checkUrl(new URL(location, url), opts.env);
        const crossOrigin = next.origin !== url.origin;
        // The method rewrite of fetch (WHATWG Fetch, HTTP-redirect fetch step 12): 303 (except GET and HEAD) and
        // 301/302 after a POST continue as a GET without a body.
        const method = (current.method ?? 'GET').toUpperCase();
        if (
          (res.status === 303 && method !== 'GET' && method !== 'HEAD') ||
          ((res.status === 301 || res.status === 302) && method === 'POST')
        ) {
          current = {
            ...current,
            method: 'GET',
            body: undefined,
            headers: withoutHeaders(current.headers, BODY_HEADERS),
          };
        } else if (current.body != null && crossOrigin) {
          // 307/308 resend the body as it is. A body can carry credentials (client_secret_post, a refresh token),
          // which are for the origin they were given to: fetch would resend them to the new origin, we refuse.
          throw new SsrfError(
            `a ${res.status} redirect to another origin (${next.origin}) would send the request body again`,
            url.href,
          );
        }
        // Credentials are for the origin they were given to: like fetch, drop them when a redirect changes origin
        // (client_secret_basic, a userinfo Bearer token or a provider's API token must not reach another host).
        if (crossOrigin)
          current = { ...current, headers: withoutHeaders(current.headers, CREDENTIAL_HEADERS) };
        url = next;
        continue;
      }
      const nullBody = res.status === 204 || res.status === 304 || (res.status >= 100 && res.status < 200);
      return new Response(nullBody ? null : new Uint8Array(res.body), {
        status: res.status,
        headers: res.headers,
      });
    }
  };
}
