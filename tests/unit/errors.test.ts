/**
 * Error catalogues (issue 23 item 1): one `defineErrors` shape, declared on the module object, registered by
 * buildApp; a code declared twice fails the boot; a catalogue throws only its own codes (a compile error
 * otherwise); every code has its French and English texts.
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { modules } from '../../src/modules/index.js';
import { AppError, defineErrors, platformErrors } from '../../src/platform/http/errors.js';
import { buildErrorRegistry, defineTexts } from '../../src/platform/http/messages.js';
import type { AppModule } from '../../src/platform/module.js';

describe('defineErrors', () => {
  const demo = defineErrors({
    DEMO_GONE: [410, 'Parti', 'Gone'],
    DEMO_SLOW: [429, 'Trop vite', 'Too fast'],
  });

  it('builds an AppError with the catalogue status, the details and the options', () => {
    const e = demo.error('DEMO_SLOW', { n: 1 }, { headers: { 'retry-after': '3' } });
    expect(e).toBeInstanceOf(AppError);
    expect([e.statusCode, e.code, e.details, e.headers]).toEqual([
      429,
      'DEMO_SLOW',
      { n: 1 },
      { 'retry-after': '3' },
    ]);
    expect(() => demo.throw('DEMO_GONE')).toThrow(
      expect.objectContaining({ statusCode: 410, code: 'DEMO_GONE' }),
    );
    expect(demo.text('DEMO_GONE', 'fr')).toBe('Parti');
    expect(demo.text('DEMO_GONE', 'en')).toBe('Gone');
    expect(demo.has('DEMO_GONE')).toBe(true);
    expect(demo.has('NOT_FOUND')).toBe(false);
  });

  it('types the code by the catalogue: an unknown code does not compile', () => {
    // @ts-expect-error DEMO_TYPO is not in the catalogue (npm run typecheck fails if this line compiles)
    expect(() => demo.error('DEMO_TYPO')).toThrow(/not in this catalogue/);
    // @ts-expect-error a platform code is not the demo catalogue's either
    expect(() => demo.throw('NOT_FOUND')).toThrow(/not in this catalogue/);
  });

  it('success texts fill their placeholders', () => {
    const text = defineTexts({ DONE: { fr: '{n} faits', en: '{n} done' } });
    expect(text('DONE', 'en', { n: 3 })).toBe('3 done');
    expect(text('DONE', 'fr', { n: 2 })).toBe('2 faits');
  });
});

describe('the registry of an app', () => {
  it('refuses a code declared by two catalogues', () => {
    const a = defineErrors({ SAME_CODE: [400, 'a', 'a'] });
    const b = defineErrors({ SAME_CODE: [409, 'b', 'b'] });
    expect(() =>
      buildErrorRegistry([
        { owner: 'a', catalogue: a },
        { owner: 'b', catalogue: b },
      ]),
    ).toThrow('error code SAME_CODE is declared twice: by a and by b');
  });

  it('refuses a module code that the platform already declares', () => {
    const shadow = defineErrors({ NOT_FOUND: [404, 'x', 'x'] });
    expect(() =>
      buildErrorRegistry([
        { owner: 'platform', catalogue: platformErrors },
        { owner: 'm', catalogue: shadow },
      ]),
    ).toThrow(/NOT_FOUND is declared twice: by platform and by m/);
  });

  it('buildApp fails the boot when two modules declare one code', async () => {
    const one: AppModule = {
      name: 'one',
      errors: [defineErrors({ DUP_CODE: [400, 'un', 'one'] })],
      routes: () => [],
    };
    const two: AppModule = {
      name: 'two',
      errors: [defineErrors({ DUP_CODE: [400, 'deux', 'two'] })],
      routes: () => [],
    };
    await expect(buildApp(testConfig(), { modules: [one, two], migrate: false })).rejects.toThrow(
      'error code DUP_CODE is declared twice: by one and by two',
    );
  });

  it("registers the platform's and every module's catalogues without a duplicate", () => {
    const registry = buildErrorRegistry([
      { owner: 'platform', catalogue: platformErrors },
      ...modules.flatMap((m) => m.errors.map((catalogue) => ({ owner: m.name, catalogue }))),
    ]);
    expect(registry.owner('SSO_STATE_INVALID')).toBe('sso');
    expect(registry.owner('SAML_REPLAY')).toBe('sso');
    expect(registry.owner('MFA_LOCKED')).toBe('mfa');
    expect(registry.owner('INVALID_CREDENTIALS')).toBe('auth');
    expect(registry.owner('VALIDATION_ERROR')).toBe('platform');
    expect(registry.codes().length).toBeGreaterThan(80);
  });

  it('every module declares its errors, and every code has a status and French and English texts', () => {
    const names = modules.map((m) => m.name).sort();
    expect(names).toEqual(
      [
        'api-keys',
        'audit',
        'auth',
        'features',
        'gdpr',
        'invitations',
        'mfa',
        'oidc-clients',
        'oidc-provider',
        'password-reset',
        'rbac',
        'scim',
        'sessions',
        'sso',
        'tenant-admin',
        'tenants',
        'users',
        'webhooks',
        'wireguard',
      ].sort(),
    );
    for (const { owner, catalogue } of [
      { owner: 'platform', catalogue: platformErrors },
      ...modules.flatMap((m) => m.errors.map((catalogue) => ({ owner: m.name, catalogue }))),
    ]) {
      expect(Array.isArray(catalogue.entries) || typeof catalogue.entries === 'object').toBe(true);
      for (const [code, [status, fr, en]] of Object.entries(catalogue.entries)) {
        expect(code, `${owner}`).toMatch(/^[A-Z][A-Z0-9_]+$/);
        expect(status >= 400 && status <= 599, `${owner} ${code} status`).toBe(true);
        expect(fr.trim().length, `${owner} ${code} fr`).toBeGreaterThan(0);
        expect(en.trim().length, `${owner} ${code} en`).toBeGreaterThan(0);
      }
    }
  });
});
