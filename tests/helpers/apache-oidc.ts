/**
 * An off-the-shelf relying party for tests: Debian's Apache httpd with mod_auth_openidc (`apt-get install apache2
 * libapache2-mod-auth-openidc`), its own process (`apache2 -X`) on a free loopback port, with a configuration, pid
 * file, runtime dir and error log in a temp directory: /etc/apache2 and the system's apache2 service are never
 * touched.
 *
 * The site: `/protected/` is behind `AuthType openid-connect`; `/protected/claims` is a CGI shell script that prints
 * the OIDC_* variables mod_auth_openidc hands the application (one `NAME=value` a line), and
 * `/protected/redirect_uri` is the module's own endpoint (callback, `?info=json`, `?refresh=`, `?logout=`).
 * `/loggedout.html` is the post-logout landing page, outside the protected location.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const APACHE_BIN = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/** The Apache binary and every module the site loads are installed (their absence is a skip, outside CI only). */
export function apacheOidcAvailable(): boolean {
  return (
    existsSync(APACHE_BIN) &&
    [
      'mod_mpm_prefork.so',
      'mod_authn_core.so',
      'mod_authz_core.so',
      'mod_authz_user.so',
      'mod_alias.so',
      'mod_cgi.so',
      'mod_auth_openidc.so',
    ].every((m) => existsSync(join(MODULES, m)))
  );
}

export interface ApacheOidcOptions {
  /** The tenant's discovery URL: `PUBLIC_URL/oidc/{slug}/.well-known/openid-configuration`. */
  metadataUrl: string;
  clientId: string;
  clientSecret: string;
  /** A free loopback port, chosen before the client is registered (its redirect URIs name the port). */
  port: number;
}

export interface ApacheOidc {
  /** `http://127.0.0.1:<port>` */
  base: string;
  redirectUri: string;
  loggedOutUrl: string;
  /** The configuration Apache was started with (docs/oidc-provider.md's worked example is this, minus the paths). */
  config: string;
  /** Apache's error log (mod_auth_openidc logs there): shown when a step fails. */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** The redirect and post-logout URIs the client is registered with, for an Apache on `port`. */
export function apacheUris(port: number) {
  const base = `http://127.0.0.1:${port}`;
  return { base, redirectUri: `${base}/protected/redirect_uri`, loggedOutUrl: `${base}/loggedout.html` };
}

const CLAIMS_CGI = `#!/bin/sh
# What the protected application sees: the variables mod_auth_openidc sets (claims, tokens, REMOTE_USER).
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep '^OIDC_' | sort
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startApacheOidc(o: ApacheOidcOptions): Promise<ApacheOidc> {
  const { base, redirectUri, loggedOutUrl } = apacheUris(o.port);
  const dir = await mkdtemp(join(tmpdir(), 'mc-apache-oidc-'));
  // As root Apache serves as `nobody`, which must read the site and run the CGI script.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'run'));
  await mkdir(join(dir, 'htdocs', 'protected'), { recursive: true });
  await writeFile(join(dir, 'htdocs', 'loggedout.html'), 'signed out\n');
  await writeFile(join(dir, 'claims.cgi'), CLAIMS_CGI, { mode: 0o755 });
  const passphrase = (await import('node:crypto')).randomBytes(24).toString('base64url');
  const asRoot = process.getuid?.() === 0;

  const config = `# mod_auth_openidc in front of a site, against one MassaCorp tenant's OpenID Provider.
ServerRoot "${dir}"
Listen 127.0.0.1:${o.port}
ServerName 127.0.0.1:${o.port}
PidFile "${dir}/run/httpd.pid"
DefaultRuntimeDir "${dir}/run"
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
${asRoot ? 'User nobody\nGroup nogroup\n' : ''}
LoadModule mpm_prefork_module ${MODULES}/mod_mpm_prefork.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule alias_module ${MODULES}/mod_alias.so
LoadModule cgi_module ${MODULES}/mod_cgi.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so

DocumentRoot "${dir}/htdocs"
ScriptAlias /protected/claims "${dir}/claims.cgi"

OIDCProviderMetadataURL ${o.metadataUrl}
OIDCClientID ${o.clientId}
OIDCClientSecret ${o.clientSecret}
OIDCRedirectURI ${redirectUri}
OIDCCryptoPassphrase ${passphrase}
OIDCScope "openid email profile offline_access"
OIDCPKCEMethod S256
# offline_access (a refresh token) is granted only when the request asks for consent (OpenID Connect Core 11).
OIDCAuthRequestParams prompt=consent
OIDCRemoteUserClaim email
OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token

<Location /protected/>
  AuthType openid-connect
  Require valid-user
</Location>
`;
  const confPath = join(dir, 'httpd.conf');
  await writeFile(confPath, config);

  let output = '';
  const child: ChildProcess = spawn(APACHE_BIN, ['-X', '-f', confPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Debian's apache2 reads APACHE_* variables only through apache2ctl/envvars; none are needed here.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
  });
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const errorLog = async () => {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    return `${output}${log}`;
  };
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when the landing page answers (Apache has bound the port and read the configuration).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = await errorLog();
      await stop();
      throw new Error(`apache2 exited (${child.exitCode}): ${log}`);
    }
    try {
      const res = await fetch(loggedOutUrl);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const log = await errorLog();
      await stop();
      throw new Error(`apache2 did not start: ${log}`);
    }
    await sleep(100);
  }
  return { base, redirectUri, loggedOutUrl, config, errorLog, stop };
}

/** `NAME=value` lines (the claims page) as a record. */
export function parseVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
