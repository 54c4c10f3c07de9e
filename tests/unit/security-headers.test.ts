/**
 * Issue 12 (per-request overhead): the §3 security headers are computed once at boot by helmet, from the same
 * options @fastify/helmet was given, instead of on every request. What helmet computes must still be what
 * API.md §3 says.
 */
import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/platform/http/security-headers.js';

describe('issue 12 per-request overhead: security headers computed once', () => {
  it('holds the API.md §3 headers with their exact values, names in lower case, each once', () => {
    const pairs = securityHeaders();
    const headers = Object.fromEntries(pairs);
    expect(new Set(pairs.map(([n]) => n)).size).toBe(pairs.length);
    for (const [name] of pairs) expect(name).toBe(name.toLowerCase());
    const csp = headers['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    // crossOriginEmbedderPolicy: false, as before.
    expect(headers['cross-origin-embedder-policy']).toBeUndefined();
  });

  it('refuses options helmet refuses, at boot rather than on a request', () => {
    expect(() => securityHeaders({ hsts: { maxAge: -1 } })).toThrow();
  });
});
