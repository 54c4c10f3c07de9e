import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const strong = { JWT_SECRET: 'a-very-long-production-jwt-key-0123456789', ENCRYPTION_KEY: 'ab'.repeat(32) };

describe('loadConfig', () => {
  it('has the seed defaults', () => {
    const c = loadConfig({ ENV: 'test', ...strong }, { persistSecrets: false });
    expect(c).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      jwtAlgorithm: 'HS256',
      accessTokenLifetime: 900,
      refreshTokenLifetime: 604800,
      wgNetwork: '10.10.0.0/24',
      defaultLocale: 'fr',
    });
    expect(c.rateLimitEnabled).toBe(false);
    expect(c.lockoutEnabled).toBe(false);
  });

  it('refuses to start in prod with missing or placeholder secrets', () => {
    expect(() => loadConfig({ ENV: 'prod' })).toThrow(/JWT_SECRET is required.*|ENCRYPTION_KEY is required/s);
    expect(() =>
      loadConfig({
        ENV: 'prod',
        JWT_SECRET: 'change-me-change-me-change-me-change-me',
        ENCRYPTION_KEY: strong.ENCRYPTION_KEY,
      }),
    ).toThrow(/placeholder/);
    const prod = loadConfig({ ENV: 'prod', ...strong });
    expect(prod.wgEnforce).toBe(true);
    expect(prod.autoSeed).toBe(false);
  });

  it('reports every bad value with its name', () => {
    try {
      loadConfig(
        {
          ENV: 'qa',
          PORT: 'eighty',
          JWT_ALGORITHM: 'none',
          WG_NETWORK: '10.10.0.0/99',
          LOG_LEVEL: 'loud',
          TRUSTED_PROXIES: 'nope',
          ...strong,
        },
        { persistSecrets: false },
      );
      throw new Error('should have failed');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const name of ['ENV', 'PORT', 'JWT_ALGORITHM', 'WG_NETWORK', 'LOG_LEVEL', 'TRUSTED_PROXIES'])
        expect(text).toContain(name);
    }
  });

  it('accepts an encryption key as hex or base64 of 32 bytes only', () => {
    expect(
      loadConfig(
        {
          ENV: 'test',
          JWT_SECRET: strong.JWT_SECRET,
          ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        },
        { persistSecrets: false },
      ).encryptionKey,
    ).toHaveLength(32);
    expect(() =>
      loadConfig(
        { ENV: 'test', JWT_SECRET: strong.JWT_SECRET, ENCRYPTION_KEY: 'short' },
        { persistSecrets: false },
      ),
    ).toThrow(/ENCRYPTION_KEY/);
  });
});
