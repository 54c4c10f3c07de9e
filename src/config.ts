/**
 * The only reader of process.env. Everything is parsed, validated and frozen here, so a bad value fails the
 * boot with one clear line per problem instead of surfacing later as a confusing runtime error.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';

export const ENVIRONMENTS = ['dev', 'test', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
/** HS* sign with JWT_SECRET (or a rotated secret); EdDSA and ES256 with a key pair kept in the database. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'EdDSA', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Placeholders that ship in .env.example: refusing them in prod stops a copy-paste deployment. */
const DEFAULT_SECRET_MARKERS = ['change-me', 'changeme', 'secret', 'dev-secret', 'default'];

export interface Config {
  env: Environment;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  /** `memory://` for an in-memory PGlite (tests), otherwise a directory. Ignored when databaseUrl is set. */
  pgliteDir: string;
  dbPoolMax: number;
  /**
   * A streaming replica of databaseUrl for the heavy reads (audit listing and export, user listing and search).
   * Null: every read goes to the primary.
   */
  databaseReplicaUrl: string | null;
  /**
   * Replica reads only while the replica is at most this far behind; a client that wrote within this window (plus
   * one lag probe) reads from the primary, so it always sees its own writes.
   */
  databaseReplicaMaxLagMs: number;
  /** Longest wait for a database connection (a new one or a free pooled one) before the request gets a 503. */
  dbConnectTimeoutMs: number;
  /** PostgreSQL statement_timeout of every pooled connection: a statement running (or waiting on a lock) longer fails, 503. */
  dbStatementTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits anyway (code 1). */
  shutdownTimeoutMs: number;
  /**
   * On SIGTERM, how long the process keeps serving everything while /ready answers 503, before it closes: load
   * balancers and kubelets need a couple of health-check intervals to stop sending it traffic. 0: no drain.
   */
  shutdownDrainMs: number;
  /** Load shedding (platform/http/load-shedding.ts); a threshold of 0 is off. */
  loadShedding: {
    maxEventLoopDelayMs: number;
    maxHeapUsedMb: number;
    retryAfterSeconds: number;
    sampleIntervalMs: number;
  };
  redisUrl: string | null;
  /** Redis behind Sentinel (REDIS_SENTINELS): ioredis asks the sentinels for the master, and again on failover. */
  redisSentinel: RedisSentinelConfig | null;
  storePrefix: string;
  /** Longest wait for one Redis command; with no offline queue, commands fail at once while Redis is down. */
  redisCommandTimeoutMs: number;
  jwtSecret: string;
  jwtAlgorithm: JwtAlgorithm;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenLifetime: number;
  refreshTokenLifetime: number;
  sessionAbsoluteLifetime: number;
  mfaSessionLifetime: number;
  /** Current AES-256-GCM key (32 bytes) and its id; older keys stay readable for rotation. */
  encryptionKey: Buffer;
  encryptionKeyId: string;
  previousEncryptionKeys: Record<string, Buffer>;
  wgNetwork: string;
  wgEnforce: boolean;
  wgExtraAllowedCidrs: string[];
  wgInterface: string;
  wgEndpoint: string | null;
  wgListenPort: number;
  wgAgentInProcess: boolean;
  /** Seconds between two passes of the WireGuard agent (it also wakes on change notifications). */
  wgAgentIntervalSeconds: number;
  /** Non-revoked peers a tenant may hold unless a platform operator set its `wireguard.max_peers`. */
  wgMaxPeersPerTenant: number;
  trustedProxies: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  defaultLocale: 'fr' | 'en';
  corsAllowedOrigins: string[];
  bodyLimit: number;
  rateLimitEnabled: boolean;
  lockoutEnabled: boolean;
  rateLimits: {
    login: number;
    refresh: number;
    mfa: number;
    recovery: number;
    default: number;
    passwordReset: number;
    /** Requests per API key per hour (API.md §13). */
    apiKey: number;
  };
  lockout: { maxAttempts: number; windowSeconds: number; lockSeconds: number };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  autoMigrate: boolean;
  autoSeed: boolean;
  seedAdminPassword: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  publicUrl: string;
  /**
   * DNS servers (`ip` or `ip:port`) for SSO domain verification (TXT `_massacorp-verify.<domain>`); empty: the
   * system's resolvers.
   */
  dnsServers: string[];
  /** Social login (API.md §9): the configured providers only, and the sign-up policy (docs/configuration.md). */
  oauth: OAuthConfig;
  /**
   * Page of the front end that takes `?token=` and calls POST /password-reset/confirm: PUBLIC_URL/admin/reset-password
   * (the console) unless PASSWORD_RESET_URL is set; the token is added as the `token` query parameter.
   */
  passwordResetUrl: string;
  /** The front-end page that receives `?token=` from the mail confirming a social sign-up's typed address. */
  oauthVerifyEmailUrl: string;
  /**
   * The SAML SP's signing key and certificate (PEM; SAML_SP_PRIVATE_KEY and SAML_SP_CERTIFICATE, both or neither):
   * when set, they sign the AuthnRequests (HTTP-Redirect binding signature) and the SP metadata publishes their
   * certificate. Null: the key generated at the first SAML use and kept in the database signs instead
   * (modules/sso/saml/sp-key.ts): requests are always signed.
   */
  samlSpSigning: { privateKey: string; certificate: string } | null;
  /** Where `massacorp audit prune` writes archives before it deletes (default DATA_DIR/audit-archive). */
  auditArchiveDir: string;
  /** WebAuthn relying party id (a domain) and the origin browsers report (default PUBLIC_URL). */
  webauthnRpId: string;
  webauthnOrigin: string;
  /** Bearer token that /metrics requires when set (required in prod and staging); null: loopback/WireGuard only. */
  metricsToken: string | null;
  /** The admin console at /admin (API.md §18). */
  adminConsole: {
    enabled: boolean;
    /** The built single-page app (web/dist by default). */
    dir: string;
    /** Prefills the sign-in screen's organisation field (a tenant slug or id); null leaves it empty. */
    defaultTenant: string | null;
  };
  /** Webhooks and audit streams (docs/webhooks.md). */
  webhooks: {
    /** Whether this replica runs a delivery worker (every replica may: claims never collide). */
    worker: boolean;
    /** How often the worker looks for new events and due deliveries. */
    pollMs: number;
    /** One attempt's time limit (connect to the end of the response). */
    timeoutMs: number;
    /** Endpoints per tenant. */
    maxEndpoints: number;
    /** Undelivered deliveries per endpoint: past it the endpoint's new events wait in the audit log. */
    maxQueued: number;
    /** Audit records per audit.record batch. */
    batchSize: number;
    /** Days a finished delivery (delivered, or failed for good) stays in the delivery log. */
    retentionDays: number;
  };
  oidc: {
    /** Registered OIDC clients per tenant. */
    maxClients: number;
  };
  version: string;
}

export const OAUTH_PROVIDERS = ['google', 'github', 'microsoft', 'oidc'] as const;
export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number];

export interface OAuthProviderConfig {
  provider: OAuthProviderId;
  /** Display name (GET /oauth/providers). */
  name: string;
  clientId: string;
  clientSecret: string;
  /**
   * OpenID providers: the issuer (discovery at issuer + /.well-known/openid-configuration; ID tokens must carry
   * exactly this iss). GitHub: the fixed label identities are keyed by (`https://github.com`).
   */
  issuer: string;
  /** The redirect URI registered at the provider (default PUBLIC_URL/api/v1/oauth/<provider>/callback). */
  redirectUri: string;
  scope: string;
  /** A sign-in through this provider counts as the second factor (default false: users with MFA get the step). */
  trustMfa: boolean;
  /** GitHub only (plain OAuth 2): its endpoints, overridable for tests and GitHub Enterprise Server. */
  github?: { authorizationUrl: string; tokenUrl: string; apiUrl: string };
}

export interface OAuthConfig {
  providers: OAuthProviderConfig[];
  /**
   * Create the account at the callback (tenant self_registration on, provider-verified email) instead of
   * answering requires_registration.
   */
  autoRegister: boolean;
  /** Role code given to accounts created through social login. */
  defaultRole: string;
}

/** Entra ID issuers of these tenants are templates (`{tenantid}`); see docs/configuration.md. */
const MICROSOFT_TEMPLATE_TENANTS = ['common', 'organizations'];

function readOAuth(r: Reader, publicUrl: string): OAuthConfig {
  const providers: OAuthProviderConfig[] = [];
  const defaults: Record<OAuthProviderId, { name: string; scope: string }> = {
    google: { name: 'Google', scope: 'openid email profile' },
    github: { name: 'GitHub', scope: 'read:user user:email' },
    microsoft: { name: 'Microsoft', scope: 'openid email profile' },
    oidc: { name: 'OpenID Connect', scope: 'openid email profile' },
  };
  for (const provider of OAUTH_PROVIDERS) {
    const P = `OAUTH_${provider.toUpperCase()}`;
    const clientId = r.raw(`${P}_CLIENT_ID`);
    const clientSecret = r.raw(`${P}_CLIENT_SECRET`);
    if (!clientId && !clientSecret) continue;
    if (!clientId || !clientSecret) {
      r.problems.push(`${P}_CLIENT_ID and ${P}_CLIENT_SECRET must be set together`);
      continue;
    }
    let issuer: string | undefined;
    if (provider === 'google') issuer = r.str(`${P}_ISSUER`, 'https://accounts.google.com');
    else if (provider === 'github') issuer = 'https://github.com';
    else if (provider === 'oidc') issuer = r.raw(`${P}_ISSUER`);
    else {
      const tenant = r.raw(`${P}_TENANT`);
      issuer = r.raw(`${P}_ISSUER`);
      if (!issuer && tenant && MICROSOFT_TEMPLATE_TENANTS.includes(tenant.toLowerCase()))
        r.problems.push(
          `${P}_TENANT="${tenant}" is multi-tenant (its issuer is a {tenantid} template): give a directory tenant id or domain, or consumers`,
        );
      else if (!issuer && tenant)
        issuer = `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/v2.0`;
      else if (!issuer) r.problems.push(`${P}_TENANT (or ${P}_ISSUER) is required with ${P}_CLIENT_ID`);
    }
    if (!issuer) {
      if (provider === 'oidc') r.problems.push(`${P}_ISSUER is required with ${P}_CLIENT_ID`);
      continue;
    }
    if (!/^https?:\/\/[^\s]+$/.test(issuer)) {
      r.problems.push(`${P}_ISSUER="${issuer}" must be an http(s) URL`);
      continue;
    }
    providers.push({
      provider,
      name: r.str(`${P}_NAME`, defaults[provider].name).slice(0, 100),
      clientId,
      clientSecret,
      issuer: issuer.replace(/\/+$/, ''),
      redirectUri: r.str(`${P}_REDIRECT_URI`, `${publicUrl}/api/v1/oauth/${provider}/callback`),
      scope: r.str(`${P}_SCOPE`, defaults[provider].scope),
      trustMfa: r.bool(`${P}_TRUST_MFA`, false),
      ...(provider === 'github'
        ? {
            github: {
              authorizationUrl: r.str(`${P}_AUTHORIZATION_URL`, 'https://github.com/login/oauth/authorize'),
              tokenUrl: r.str(`${P}_TOKEN_URL`, 'https://github.com/login/oauth/access_token'),
              apiUrl: r.str(`${P}_API_URL`, 'https://api.github.com').replace(/\/+$/, ''),
            },
          }
        : {}),
    });
  }
  const defaultRole = r.str('OAUTH_DEFAULT_ROLE', 'member');
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(defaultRole))
    r.problems.push(`OAUTH_DEFAULT_ROLE="${defaultRole}" is not a role code`);
  return { providers, autoRegister: r.bool('OAUTH_AUTO_REGISTER', false), defaultRole };
}

/** SAML_SP_PRIVATE_KEY + SAML_SP_CERTIFICATE (PEM, `\n` escapes accepted): both or neither, and a matching pair. */
function samlSpSigning(r: Reader): Config['samlSpSigning'] {
  const pem = (name: string) => r.raw(name)?.replace(/\\n/g, '\n').trim() || null;
  const privateKey = pem('SAML_SP_PRIVATE_KEY');
  const certificate = pem('SAML_SP_CERTIFICATE');
  if (!privateKey && !certificate) return null;
  if (!privateKey || !certificate) {
    r.problems.push('SAML_SP_PRIVATE_KEY and SAML_SP_CERTIFICATE go together: set both or neither');
    return null;
  }
  try {
    const key = createPrivateKey(privateKey);
    const cert = new X509Certificate(certificate);
    if (key.asymmetricKeyType !== 'rsa' || !cert.checkPrivateKey(key)) {
      r.problems.push('SAML_SP_CERTIFICATE must be the certificate of SAML_SP_PRIVATE_KEY (an RSA key)');
      return null;
    }
  } catch {
    r.problems.push(
      'SAML_SP_PRIVATE_KEY / SAML_SP_CERTIFICATE must be a PEM private key and a PEM certificate',
    );
    return null;
  }
  return { privateKey, certificate };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export interface RedisSentinelConfig {
  sentinels: { host: string; port: number }[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> ...`). */
  name: string;
  /** AUTH for the master and replicas (REDIS_PASSWORD), and for the sentinels (REDIS_SENTINEL_PASSWORD). */
  password: string | undefined;
  sentinelPassword: string | undefined;
  /** TLS to the sentinels and to the master they name (REDIS_TLS). */
  tls: boolean;
}

/** REDIS_SENTINELS=host:port,host:port (IPv6 as [addr]:port), with REDIS_SENTINEL_NAME and the rest. */
function readRedisSentinel(r: Reader): RedisSentinelConfig | null {
  const list = r.raw('REDIS_SENTINELS');
  if (!list) return null;
  const sentinels: RedisSentinelConfig['sentinels'] = [];
  for (const item of list
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(item);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65_535) {
      r.problems.push(`REDIS_SENTINELS: "${item}" is not host:port`);
      continue;
    }
    sentinels.push({ host: (m[1] ?? m[2]) as string, port });
  }
  if (sentinels.length === 0) r.problems.push('REDIS_SENTINELS names no sentinel');
  return {
    sentinels,
    name: r.raw('REDIS_SENTINEL_NAME') ?? 'mymaster',
    password: r.raw('REDIS_PASSWORD'),
    sentinelPassword: r.raw('REDIS_SENTINEL_PASSWORD'),
    tls: r.bool('REDIS_TLS', false),
  };
}

class Reader {
  problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }
  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }
  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${name}="${v}" must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return Number(v);
  }
  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    this.problems.push(`${name}="${v}" must be true or false`);
    return fallback;
  }
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T, normalise = (s: string) => s): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = normalise(v);
    if (!(allowed as readonly string[]).includes(n)) {
      this.problems.push(`${name}="${v}" must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return n as T;
  }
  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  cidrs(name: string, fallback: string[] = []): string[] {
    const items = this.raw(name) === undefined ? fallback : this.list(name);
    for (const c of items) {
      if (!isCidrOrIp(c)) this.problems.push(`${name} contains "${c}", which is not an IP address or CIDR`);
    }
    return items;
  }
}

/** What node:dns Resolver#setServers accepts: an IP address, `ipv4:port` or `[ipv6]:port`. */
function isDnsServer(value: string): boolean {
  if (isIP(value)) return true;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value);
  return !!m && isIP(m[1]!) !== 0 && Number(m[2]) > 0 && Number(m[2]) <= 65535;
}

export function isCidrOrIp(value: string): boolean {
  if (isIP(value)) return true;
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

/** The repository root, from src/ (tsx) or dist/ (compiled): both sit one level below it. */
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Outside prod, generated secrets live in DATA_DIR so a restart does not log everyone out. */
function persistedSecrets(dataDir: string, persist: boolean): { jwtSecret: string; encryptionKey: string } {
  const generated = {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  if (!persist) return generated;
  const file = path.join(dataDir, 'secrets.json');
  try {
    if (existsSync(file)) return { ...generated, ...JSON.parse(readFileSync(file, 'utf8')) };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch {
    // A read-only DATA_DIR still boots, with secrets that last as long as the process.
  }
  return generated;
}

export function parseEncryptionKey(value: string): Buffer | null {
  const hex = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : null;
  if (hex) return hex;
  const b64 = Buffer.from(value, 'base64');
  return b64.length === 32 ? b64 : null;
}

function looksDefault(secret: string): boolean {
  const s = secret.toLowerCase();
  return DEFAULT_SECRET_MARKERS.some((m) => s.includes(m));
}

export interface LoadConfigOptions {
  /** Write generated dev secrets to DATA_DIR (false in tests). */
  persistSecrets?: boolean;
}

export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Readonly<Config> {
  const r = new Reader(env);
  const appEnv = r.oneOf('ENV', ENVIRONMENTS, 'dev', (s) => s.toLowerCase());
  const isProd = appEnv === 'prod';
  const isTest = appEnv === 'test';
  // Staging holds real data and faces real networks: its secrets are checked exactly like prod's.
  const strictSecrets = isProd || appEnv === 'staging';
  const dataDir = path.resolve(r.str('DATA_DIR', './data'));
  const databaseUrl = r.raw('DATABASE_URL') ?? null;
  const databaseReplicaUrl = r.raw('DATABASE_REPLICA_URL') ?? null;
  if (databaseReplicaUrl && !/^postgres(ql)?:\/\//.test(databaseReplicaUrl))
    r.problems.push('DATABASE_REPLICA_URL must start with postgres:// or postgresql://');
  if (databaseReplicaUrl && !databaseUrl)
    r.problems.push(
      'DATABASE_REPLICA_URL needs DATABASE_URL (a replica of the embedded database does not exist)',
    );
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    r.problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }
  // Prod never migrates on start, so an embedded database there is empty and unmigrated: /ready would be 200 and
  // every sign-in a 500. Staging holds real data too; neither may fall back to an in-process database.
  if (strictSecrets && !databaseUrl)
    r.problems.push(
      `DATABASE_URL is required when ENV=${appEnv} (the embedded database is for dev and test only)`,
    );
  const redisUrl = r.raw('REDIS_URL') ?? null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    r.problems.push('REDIS_URL must start with redis:// or rediss://');
  const redisSentinel = readRedisSentinel(r);
  if (redisUrl && redisSentinel)
    r.problems.push('set REDIS_URL or REDIS_SENTINELS, not both (Sentinel names the master itself)');

  const needGenerated = !r.raw('JWT_SECRET') || !r.raw('ENCRYPTION_KEY');
  const generated =
    needGenerated && !strictSecrets ? persistedSecrets(dataDir, options.persistSecrets ?? !isTest) : null;

  let jwtSecret = r.raw('JWT_SECRET') ?? generated?.jwtSecret ?? '';
  if (strictSecrets) {
    if (!r.raw('JWT_SECRET')) r.problems.push(`JWT_SECRET is required when ENV=${appEnv}`);
    else if (jwtSecret.length < 32 || looksDefault(jwtSecret))
      r.problems.push(`JWT_SECRET must be at least 32 characters and not a placeholder when ENV=${appEnv}`);
  } else if (jwtSecret.length < 16) {
    r.problems.push('JWT_SECRET must be at least 16 characters');
    jwtSecret = jwtSecret.padEnd(16, '!');
  }

  const encRaw = r.raw('ENCRYPTION_KEY') ?? generated?.encryptionKey ?? '';
  let encryptionKey = parseEncryptionKey(encRaw);
  if (strictSecrets && !r.raw('ENCRYPTION_KEY'))
    r.problems.push(`ENCRYPTION_KEY is required when ENV=${appEnv}`);
  else if (strictSecrets && looksDefault(encRaw))
    r.problems.push(`ENCRYPTION_KEY must not be a placeholder when ENV=${appEnv}`);
  if (!encryptionKey) {
    if (encRaw) r.problems.push('ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
    encryptionKey = Buffer.alloc(32);
  }
  const previousEncryptionKeys: Record<string, Buffer> = {};
  // ENCRYPTION_KEYS_PREVIOUS="k1:<key>,k2:<key>" keeps old keys readable while `keys rotate-encryption` runs.
  for (const item of r.list('ENCRYPTION_KEYS_PREVIOUS')) {
    const [id, key] = item.split(':');
    const parsed = key ? parseEncryptionKey(key) : null;
    if (!id || !parsed)
      r.problems.push(`ENCRYPTION_KEYS_PREVIOUS entry "${id ?? ''}" must be id:key (32 bytes)`);
    else previousEncryptionKeys[id] = parsed;
  }
  const encryptionKeyId = r.str('ENCRYPTION_KEY_ID', 'k1');
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(encryptionKeyId))
    r.problems.push('ENCRYPTION_KEY_ID must be 1-16 of [A-Za-z0-9_-]');

  const wgNetwork = r.str('WG_NETWORK', '10.10.0.0/24');
  try {
    ipaddr.parseCIDR(wgNetwork);
  } catch {
    r.problems.push(`WG_NETWORK="${wgNetwork}" is not a CIDR (e.g. 10.10.0.0/24)`);
  }

  const wgInterface = r.str('WG_INTERFACE', 'wg0');
  // A Linux interface name (1-15 characters), and an argv word for `wg`: nothing an option parser could misread.
  if (!/^[A-Za-z0-9_=+.][A-Za-z0-9_=+.-]{0,14}$/.test(wgInterface))
    r.problems.push(`WG_INTERFACE="${wgInterface}" is not a valid interface name`);

  // /metrics is open to loopback and the tunnel only unless a token is set; prod and staging must set one.
  const metricsToken = r.raw('METRICS_TOKEN') ?? null;
  if (strictSecrets && !metricsToken) r.problems.push(`METRICS_TOKEN is required when ENV=${appEnv}`);
  else if (strictSecrets && metricsToken && (metricsToken.length < 32 || looksDefault(metricsToken)))
    r.problems.push(`METRICS_TOKEN must be at least 32 characters and not a placeholder when ENV=${appEnv}`);
  else if (metricsToken && metricsToken.length < 16)
    r.problems.push('METRICS_TOKEN must be at least 16 characters');

  const rateLimitEnabled = r.bool('RATE_LIMIT_ENABLED', !isTest);
  const lockoutEnabled = r.bool('LOCKOUT_ENABLED', !isTest);
  const port = r.int('PORT', 8000, 0, 65535);
  const publicUrl = r.str('PUBLIC_URL', `http://localhost:${port}`).replace(/\/+$/, '');
  const dnsServers = r.list('DNS_SERVERS');
  for (const server of dnsServers)
    if (!isDnsServer(server))
      r.problems.push(
        `DNS_SERVERS contains "${server}", which is not an IP address (with an optional :port)`,
      );
  const autoSeed = r.bool('AUTO_SEED', !isProd && !isTest);
  const adminDefaultTenant = r.raw('ADMIN_DEFAULT_TENANT') ?? (autoSeed ? 'massacorp' : null);
  if (adminDefaultTenant !== null && !/^([1-9][0-9]{0,9}|[a-z0-9][a-z0-9-]{0,62})$/i.test(adminDefaultTenant))
    r.problems.push('ADMIN_DEFAULT_TENANT must be a tenant id or slug');

  const config: Config = {
    env: appEnv,
    host: r.str('HOST', '0.0.0.0'),
    port,
    dataDir,
    databaseUrl,
    pgliteDir: r.str('PGLITE_DIR', path.join(dataDir, 'pglite')),
    dbPoolMax: r.int('DB_POOL_MAX', 10, 1, 500),
    databaseReplicaUrl,
    databaseReplicaMaxLagMs: r.int('DATABASE_REPLICA_MAX_LAG_MS', 1000, 50, 600_000),
    dbConnectTimeoutMs: r.int('DB_CONNECT_TIMEOUT_MS', 5000, 100, 120_000),
    dbStatementTimeoutMs: r.int('DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    // Above two readiness periods of the shipped probes (Kubernetes 5 s, HAProxy's 2 s default) in prod and
    // staging; a developer's single process (dev) and tests have no load balancer to wait for.
    shutdownDrainMs: r.int('SHUTDOWN_DRAIN_MS', strictSecrets ? 12_000 : 0, 0, 300_000),
    loadShedding: {
      // Off in tests: the embedded PGlite runs in the test process and blocks its event loop on purpose.
      maxEventLoopDelayMs: r.int('LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS', isTest ? 0 : 1000, 0, 60_000),
      maxHeapUsedMb: r.int('LOAD_SHED_MAX_HEAP_USED_MB', 0, 0, 1_048_576),
      retryAfterSeconds: r.int('LOAD_SHED_RETRY_AFTER_SECONDS', 10, 1, 3600),
      sampleIntervalMs: r.int('LOAD_SHED_SAMPLE_INTERVAL_MS', 1000, 10, 60_000),
    },
    redisUrl,
    redisSentinel,
    storePrefix: r.str('STORE_PREFIX', 'mc:'),
    redisCommandTimeoutMs: r.int('REDIS_COMMAND_TIMEOUT_MS', 500, 50, 10_000),
    jwtSecret,
    jwtAlgorithm: r.oneOf(
      'JWT_ALGORITHM',
      JWT_ALGORITHMS,
      'HS256',
      (s) => JWT_ALGORITHMS.find((a) => a.toLowerCase() === s.toLowerCase()) ?? s,
    ),
    jwtIssuer: r.str('JWT_ISSUER', 'massacorp'),
    jwtAudience: r.str('JWT_AUDIENCE', 'massacorp-api'),
    accessTokenLifetime: r.int('ACCESS_TOKEN_LIFETIME', 900, 30, 86_400),
    refreshTokenLifetime: r.int('REFRESH_TOKEN_LIFETIME', 604_800, 60, 31_536_000),
    sessionAbsoluteLifetime: r.int('SESSION_ABSOLUTE_LIFETIME', 2_592_000, 60, 31_536_000),
    mfaSessionLifetime: r.int('MFA_SESSION_LIFETIME', 300, 30, 3600),
    encryptionKey,
    encryptionKeyId,
    previousEncryptionKeys,
    wgNetwork,
    wgEnforce: r.bool('WG_ENFORCE', isProd),
    wgExtraAllowedCidrs: r.cidrs('WG_EXTRA_ALLOWED_CIDRS'),
    wgInterface,
    wgEndpoint: r.raw('WG_ENDPOINT') ?? null,
    wgListenPort: r.int('WG_LISTEN_PORT', 51820, 1, 65535),
    wgAgentInProcess: r.bool('WG_AGENT_IN_PROCESS', false),
    wgAgentIntervalSeconds: r.int('WG_AGENT_INTERVAL', 5, 1, 3600),
    wgMaxPeersPerTenant: r.int('WG_MAX_PEERS_PER_TENANT', 50, 0, 1_000_000),
    trustedProxies: r.cidrs('TRUSTED_PROXIES'),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, isTest ? 'silent' : 'info', (s) => s.toLowerCase()),
    defaultLocale: r.oneOf('DEFAULT_LOCALE', ['fr', 'en'] as const, 'fr', (s) => s.toLowerCase()),
    corsAllowedOrigins: r.list('CORS_ALLOWED_ORIGINS'),
    bodyLimit: r.int('BODY_LIMIT', 1_048_576, 1024, 50 * 1_048_576),
    rateLimitEnabled,
    lockoutEnabled,
    rateLimits: {
      login: r.int('RATE_LIMIT_LOGIN', 5, 1, 100_000),
      refresh: r.int('RATE_LIMIT_REFRESH', 30, 1, 100_000),
      mfa: r.int('RATE_LIMIT_MFA', 5, 1, 100_000),
      recovery: r.int('RATE_LIMIT_RECOVERY', 3, 1, 100_000),
      default: r.int('RATE_LIMIT_DEFAULT', 120, 1, 1_000_000),
      passwordReset: r.int('RATE_LIMIT_PASSWORD_RESET', 5, 1, 100_000),
      apiKey: r.int('RATE_LIMIT_API_KEY', 1000, 1, 100_000_000),
    },
    lockout: {
      maxAttempts: r.int('LOCKOUT_MAX_ATTEMPTS', 5, 1, 1000),
      windowSeconds: r.int('LOCKOUT_WINDOW', 1800, 1, 86_400),
      lockSeconds: r.int('LOCKOUT_DURATION', 1800, 1, 86_400),
    },
    argon2: {
      memoryCost: r.int('ARGON2_MEMORY_KIB', 19_456, 1024, 1_048_576),
      timeCost: r.int('ARGON2_TIME_COST', 2, 1, 10),
      parallelism: r.int('ARGON2_PARALLELISM', 1, 1, 16),
    },
    autoMigrate: r.bool('AUTO_MIGRATE', !isProd),
    autoSeed,
    seedAdminPassword: r.raw('SEED_ADMIN_PASSWORD') ?? null,
    smtpUrl: r.raw('SMTP_URL') ?? null,
    mailFrom: r.str('MAIL_FROM', 'MassaCorp <no-reply@massacorp.dev>'),
    publicUrl,
    dnsServers,
    oauth: readOAuth(r, publicUrl),
    // The console's page by default (issue 20: `/reset-password` was a 404); an app with its own page sets it.
    passwordResetUrl: r.str('PASSWORD_RESET_URL', `${publicUrl}/admin/reset-password`),
    oauthVerifyEmailUrl: r.str('OAUTH_VERIFY_EMAIL_URL', `${publicUrl}/verify-email`),
    auditArchiveDir: path.resolve(r.str('AUDIT_ARCHIVE_DIR', path.join(dataDir, 'audit-archive'))),
    webauthnRpId: r.str('WEBAUTHN_RP_ID', 'localhost'),
    webauthnOrigin: r
      .str('WEBAUTHN_ORIGIN', r.str('PUBLIC_URL', `http://localhost:${port}`))
      .replace(/\/+$/, ''),
    samlSpSigning: samlSpSigning(r),
    metricsToken,
    webhooks: {
      worker: r.bool('WEBHOOK_WORKER', true),
      pollMs: r.int('WEBHOOK_POLL_MS', 1000, 20, 60_000),
      timeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
      maxEndpoints: r.int('WEBHOOK_MAX_ENDPOINTS', 20, 1, 1000),
      maxQueued: r.int('WEBHOOK_MAX_QUEUED', 100_000, 10, 10_000_000),
      batchSize: r.int('WEBHOOK_BATCH_SIZE', 100, 1, 1000),
      // The delivery log (payloads are personal data): finished deliveries older than this are deleted.
      retentionDays: r.int('WEBHOOK_DELIVERY_RETENTION_DAYS', 30, 1, 3650),
    },
    oidc: {
      maxClients: r.int('OIDC_MAX_CLIENTS', 100, 1, 10_000),
    },
    adminConsole: {
      enabled: r.bool('ADMIN_CONSOLE_ENABLED', true),
      dir: path.resolve(r.str('ADMIN_CONSOLE_DIR', path.join(PROJECT_ROOT, 'web', 'dist'))),
      defaultTenant: adminDefaultTenant,
    },
    version: '1.0.0',
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}

/** A config for tests and tools: defaults plus overrides, with fixed secrets so nothing touches the disk. */
export function testConfig(overrides: Env = {}): Readonly<Config> {
  return loadConfig(
    {
      ENV: 'test',
      JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      PGLITE_DIR: 'memory://',
      ARGON2_MEMORY_KIB: '4096',
      ARGON2_TIME_COST: '1',
      // Tests step the webhook worker themselves (or turn it on): dozens of test apps polling would compete.
      WEBHOOK_WORKER: 'false',
      ...overrides,
    },
    { persistSecrets: false },
  );
}
