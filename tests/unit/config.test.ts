import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const strong = { JWT_SECRET: 'a-very-long-production-jwt-key-0123456789', ENCRYPTION_KEY: 'ab'.repeat(32) };
/** What prod and staging need on top: /metrics is closed by a token there (finding 13). */
const deployed = {
  ...strong,
  METRICS_TOKEN: 'm3trics-scrape-key-0123456789abcdef01',
  // Prod and staging never run on the embedded database (issue 24 item 6).
  DATABASE_URL: 'postgres://massacorp@db.example.internal:5432/massacorp',
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env, { persistSecrets: false });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
}

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
    const prod = loadConfig({ ENV: 'prod', ...deployed });
    expect(prod.wgEnforce).toBe(true);
    expect(prod.autoSeed).toBe(false);
  });

  it('issue 24 item 6: prod and staging refuse to start without DATABASE_URL (no embedded database there)', () => {
    const { DATABASE_URL: _url, ...withoutDb } = deployed;
    for (const env of ['prod', 'staging']) {
      expect(problemsOf({ ...withoutDb, ENV: env })).toBe(
        `DATABASE_URL is required when ENV=${env} (the embedded database is for dev and test only)`,
      );
      expect(loadConfig({ ...deployed, ENV: env }).databaseUrl).toBe(deployed.DATABASE_URL);
    }
    expect(loadConfig({ ...strong, ENV: 'dev' }, { persistSecrets: false }).databaseUrl).toBeNull();
  });

  it('issue 24 item 1: SHUTDOWN_DRAIN_MS defaults above two readiness periods in prod and staging, 0 in dev and test, and is validated', () => {
    expect(loadConfig({ ...deployed, ENV: 'prod' }).shutdownDrainMs).toBe(12_000);
    expect(loadConfig({ ...deployed, ENV: 'staging' }).shutdownDrainMs).toBe(12_000);
    expect(loadConfig({ ...strong, ENV: 'dev' }, { persistSecrets: false }).shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...strong, ENV: 'test' }, { persistSecrets: false }).shutdownDrainMs).toBe(0);
    expect(
      loadConfig({ ...deployed, ENV: 'prod', SHUTDOWN_DRAIN_MS: '0' }, { persistSecrets: false })
        .shutdownDrainMs,
    ).toBe(0);
    for (const bad of ['-1', '1.5', '300001', 'ten'])
      expect(problemsOf({ ...strong, ENV: 'test', SHUTDOWN_DRAIN_MS: bad })).toBe(
        `SHUTDOWN_DRAIN_MS="${bad}" must be an integer between 0 and 300000`,
      );
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

  it('issue 13: DNS_SERVERS takes IP addresses with an optional port, and refuses anything else at boot', () => {
    const env = { ...strong, ENV: 'test' };
    expect(problemsOf({ ...env, DNS_SERVERS: '127.0.0.1:5353,[::1]:53,9.9.9.9,2620:fe::fe' })).toBe('');
    for (const bad of ['dns.example', '127.0.0.1:0', '[::1]', '10.0.0.1:99999', 'udp://1.1.1.1'])
      expect(problemsOf({ ...env, DNS_SERVERS: bad })).toContain(`DNS_SERVERS contains "${bad}"`);
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

describe('finding 14: ENV=staging checks secrets like prod', () => {
  it('finding 14: staging refuses missing, short and placeholder secrets, and generates none', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mc-staging-'));
    try {
      // Missing: every secret is named, and nothing is generated into DATA_DIR (that is for dev only).
      let missing = '';
      try {
        loadConfig({ ENV: 'staging', DATA_DIR: dataDir });
      } catch (err) {
        missing = (err as ConfigError).problems.join('\n');
      }
      expect(missing).toMatch(/JWT_SECRET is required when ENV=staging/);
      expect(missing).toMatch(/ENCRYPTION_KEY is required when ENV=staging/);
      expect(existsSync(path.join(dataDir, 'secrets.json'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Short (16 characters pass in dev, not here) and placeholders.
    expect(problemsOf({ ...deployed, ENV: 'staging', JWT_SECRET: 'sixteen-chars-ok' })).toMatch(
      /JWT_SECRET must be at least 32 characters and not a placeholder when ENV=staging/,
    );
    expect(
      problemsOf({ ...deployed, ENV: 'staging', JWT_SECRET: 'change-me-change-me-change-me-change-me' }),
    ).toMatch(/JWT_SECRET .*placeholder/);
    expect(problemsOf({ ...deployed, ENV: 'staging', ENCRYPTION_KEY: 'CHANGE-ME' })).toMatch(
      /ENCRYPTION_KEY must not be a placeholder when ENV=staging/,
    );
    // The same values are fine in dev, and strong ones are fine in staging.
    expect(problemsOf({ ...deployed, ENV: 'dev', JWT_SECRET: 'sixteen-chars-ok' })).toBe('');
    expect(loadConfig({ ENV: 'staging', ...deployed }).env).toBe('staging');
  });
});

describe('finding 13: METRICS_TOKEN', () => {
  it('finding 13: METRICS_TOKEN is required in prod and staging, 32+ characters and no placeholder', () => {
    for (const env of ['prod', 'staging']) {
      expect(problemsOf({ ...strong, ENV: env })).toMatch(
        new RegExp(`METRICS_TOKEN is required when ENV=${env}`),
      );
      expect(problemsOf({ ...strong, ENV: env, METRICS_TOKEN: 'short-token-0123' })).toMatch(
        /METRICS_TOKEN must be at least 32 characters/,
      );
      expect(problemsOf({ ...strong, ENV: env, METRICS_TOKEN: `changeme-${'x'.repeat(30)}` })).toMatch(
        /METRICS_TOKEN .*placeholder/,
      );
      expect(loadConfig({ ...deployed, ENV: env }).metricsToken).toBe(deployed.METRICS_TOKEN);
    }
    // Optional elsewhere (then /metrics answers loopback and the WireGuard network only).
    expect(loadConfig({ ...strong, ENV: 'dev' }, { persistSecrets: false }).metricsToken).toBeNull();
  });
});

describe('REDIS_SENTINELS (issue 24 item 3)', () => {
  const base = { ENV: 'test', ...strong };
  it('reads the sentinels, the master name, passwords and TLS', () => {
    const c = loadConfig(
      {
        ...base,
        REDIS_SENTINELS: '10.0.0.1:26379, sentinel-2.internal:26380,[fd00::3]:26381',
        REDIS_SENTINEL_NAME: 'massacorp',
        REDIS_PASSWORD: 'data-pass',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
        REDIS_TLS: 'true',
      },
      { persistSecrets: false },
    );
    expect(c.redisUrl).toBeNull();
    expect(c.redisSentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-2.internal', port: 26380 },
        { host: 'fd00::3', port: 26381 },
      ],
      name: 'massacorp',
      password: 'data-pass',
      sentinelPassword: 'sentinel-pass',
      tls: true,
    });
  });
  it('defaults the master name to mymaster and TLS off; unset means no Sentinel', () => {
    const c = loadConfig({ ...base, REDIS_SENTINELS: '127.0.0.1:26379' }, { persistSecrets: false });
    expect(c.redisSentinel?.name).toBe('mymaster');
    expect(c.redisSentinel?.tls).toBe(false);
    expect(loadConfig(base, { persistSecrets: false }).redisSentinel).toBeNull();
  });
  it('refuses entries that are not host:port, and REDIS_URL beside it', () => {
    expect(problemsOf({ ...base, REDIS_SENTINELS: '127.0.0.1' })).toMatch(/"127.0.0.1" is not host:port/);
    expect(problemsOf({ ...base, REDIS_SENTINELS: 'a:99999' })).toMatch(/"a:99999" is not host:port/);
    expect(problemsOf({ ...base, REDIS_SENTINELS: ' , ' })).toMatch(/names no sentinel/);
    expect(
      problemsOf({ ...base, REDIS_SENTINELS: '127.0.0.1:26379', REDIS_URL: 'redis://127.0.0.1:6379' }),
    ).toMatch(/REDIS_URL or REDIS_SENTINELS, not both/);
  });
});

describe('DATABASE_REPLICA_URL (issue 24 item 4)', () => {
  const base = { ENV: 'test', ...strong, DATABASE_URL: 'postgres://app@primary:5432/massacorp' };
  it('reads the replica and its lag bound (default 1 s); unset means no replica', () => {
    const c = loadConfig(
      {
        ...base,
        DATABASE_REPLICA_URL: 'postgres://app@replica:5432/massacorp',
        DATABASE_REPLICA_MAX_LAG_MS: '250',
      },
      { persistSecrets: false },
    );
    expect(c.databaseReplicaUrl).toBe('postgres://app@replica:5432/massacorp');
    expect(c.databaseReplicaMaxLagMs).toBe(250);
    const none = loadConfig(base, { persistSecrets: false });
    expect(none.databaseReplicaUrl).toBeNull();
    expect(none.databaseReplicaMaxLagMs).toBe(1000);
  });
  it('refuses a replica that is not a PostgreSQL URL, or one without a primary', () => {
    expect(problemsOf({ ...base, DATABASE_REPLICA_URL: 'mysql://replica/x' })).toMatch(
      /DATABASE_REPLICA_URL must start with postgres/,
    );
    expect(
      problemsOf({ ENV: 'test', ...strong, DATABASE_REPLICA_URL: 'postgres://app@replica:5432/massacorp' }),
    ).toMatch(/DATABASE_REPLICA_URL needs DATABASE_URL/);
  });
});
