/**
 * A real SAML identity provider for tests: Debian's SimpleSAMLphp 1.19 (`apt-get install simplesamlphp php-cli
 * php-xml php-mbstring`) under PHP's built-in server on a free loopback port, with its own configuration in a temp
 * directory (SIMPLESAMLPHP_CONFIG_DIR): nothing under /etc/simplesamlphp or /usr/share/simplesamlphp is touched.
 *
 * - The hosted IdP signs with a key made by the test, authenticates with `exampleauth:UserPass` (the users given to
 *   `start`), and sends attributes as LDAP OIDs in the URI NameFormat (the `name2oid` AttributeMap shipped by the
 *   package), as a federation IdP does.
 * - Each SP entry is our SP's own metadata XML, read by SimpleSAMLphp's metadata parser at every request (so the
 *   test also proves SimpleSAMLphp can consume what `GET /api/v1/sso/saml/{id}/metadata` serves), merged with the
 *   case's SP-remote options (`saml20.sign.response`, `assertion.encryption`, `NameIDFormat`, ...).
 * - `signIn` plays the browser: it follows the AuthnRequest redirect with a cookie jar, fills the login form, and
 *   returns the auto-submit form's SAMLResponse and RelayState instead of posting them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './private-servers.js';
import type { TestIdpKeys } from './saml-idp.js';

/** Where Debian's package puts the web root (the Apache alias /simplesaml points there). */
export const SIMPLESAMLPHP_WWW = '/usr/share/simplesamlphp/www';
/** The attribute map files the package ships (name2oid among them). */
const ATTRIBUTE_MAP_DIR = '/etc/simplesamlphp/attributemap/';

/** PHP and the packaged SimpleSAMLphp are both installed (their absence is a skip, outside CI only). */
export function simpleSamlPhpAvailable(): boolean {
  if (!existsSync(join(SIMPLESAMLPHP_WWW, 'saml2/idp/SSOService.php'))) return false;
  return spawnSync('php', ['-v'], { stdio: 'ignore' }).status === 0;
}

export interface SimpleSamlPhpUser {
  username: string;
  password: string;
  /** LDAP names (uid, mail, givenName, sn): the IdP's name2oid filter turns them into urn:oid names. */
  attributes: Record<string, string[]>;
}

export interface SimpleSamlPhp {
  /** The base URL (baseurlpath): `http://127.0.0.1:<port>/`. */
  base: string;
  /** The IdP's entity id, which is also its metadata URL in 1.19. */
  metadataUrl: string;
  /** Adds (or replaces) a remote SP from its metadata XML, with SimpleSAMLphp SP-remote options. */
  addSp(entityId: string, metadataXml: string, options: Record<string, unknown>): Promise<void>;
  /** What PHP and SimpleSAMLphp's logger wrote (stderr): shown when a sign-in fails. */
  output(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StartOptions {
  keys: TestIdpKeys;
  users: SimpleSamlPhpUser[];
  startTimeoutMs?: number;
}

/** Starts SimpleSAMLphp; the caller must `stop()` it (afterAll), which also removes its temp directory. */
export async function startSimpleSamlPhp(o: StartOptions): Promise<SimpleSamlPhp> {
  // The free port is chosen before php binds it: on a shared machine another process may take it in between.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(o: StartOptions): Promise<SimpleSamlPhp> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-simplesamlphp-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  const paths = {
    config: join(dir, 'config'),
    metadata: join(dir, 'metadata'),
    sessions: join(dir, 'sessions'),
    temp: join(dir, 'tmp'),
    data: join(dir, 'data'),
  };
  await Promise.all(Object.values(paths).map((p) => mkdir(p, { recursive: true })));
  await writeFile(join(dir, 'idp.key'), o.keys.privateKey, { mode: 0o600 });
  await writeFile(join(dir, 'idp.crt'), o.keys.certificate);

  // Values go through JSON files that tiny PHP files decode: no PHP literal is ever built from test data.
  const phpFromJson = (json: string, assign: string) =>
    `<?php\n${assign} = json_decode(file_get_contents(__DIR__ . '/${json}'), true, 512, JSON_THROW_ON_ERROR);\n`;
  const config = {
    baseurlpath: base,
    // Not the default salt: SimpleSAMLphp refuses to hash NameIDs with it.
    secretsalt: `mc-test-${port}-${Date.now()}`,
    technicalcontact_name: 'MassaCorp tests',
    technicalcontact_email: 'tests@example.test',
    timezone: 'UTC',
    certdir: dir,
    metadatadir: paths.metadata,
    attributenamemapdir: ATTRIBUTE_MAP_DIR,
    loggingdir: dir,
    datadir: paths.data,
    tempdir: paths.temp,
    // 4 = LOG_WARNING: errors and warnings reach PHP's stderr (kept by output()).
    'logging.handler': 'stderr',
    'logging.level': 4,
    'enable.saml20-idp': true,
    'enable.shib13-idp': false,
    'enable.adfs-idp': false,
    // 1.19 enables modules from config.php (an `enable` file would go under /usr/share, the package's).
    'module.enable': { exampleauth: true, core: true, saml: true, admin: false },
    'store.type': 'phpsession',
    'session.phpsession.savepath': paths.sessions,
    // Plain http on loopback: a secure cookie is refused there (and SameSite=None needs secure).
    'session.cookie.secure': false,
    'session.cookie.samesite': null,
    'language.cookie.secure': false,
    'language.cookie.samesite': null,
    debug: { saml: false, backtraces: true, validatexml: false },
    showerrors: true,
    errorreporting: false,
  };
  await writeFile(join(paths.config, 'config.json'), JSON.stringify(config));
  await writeFile(join(paths.config, 'config.php'), phpFromJson('config.json', '$config'));

  const users: Record<string, Record<string, string[]>> = {};
  for (const u of o.users) users[`${u.username}:${u.password}`] = u.attributes;
  await writeFile(join(paths.config, 'authsources.json'), JSON.stringify({ users }));
  // exampleauth:UserPass's config is a PHP array mixing a list item (the class) and "user:password" keys.
  await writeFile(
    join(paths.config, 'authsources.php'),
    `<?php
$users = json_decode(file_get_contents(__DIR__ . '/authsources.json'), true, 512, JSON_THROW_ON_ERROR)['users'];
$config = ['users' => array_merge(['exampleauth:UserPass'], $users)];
`,
  );

  const hosted = {
    host: '__DEFAULT__',
    privatekey: join(dir, 'idp.key'),
    certificate: join(dir, 'idp.crt'),
    auth: 'users',
    // Attributes as a federation IdP sends them: urn:oid names, URI NameFormat.
    'attributes.NameFormat': 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    authproc: {
      // How 1.19 makes persistent NameIDs: a hash of the salt, both entity ids and uid (read before name2oid).
      // Without it (or simplesaml.nameidattribute) a persistent or email NameID falls back to a transient one.
      90: { class: 'saml:PersistentNameID', attribute: 'uid' },
      100: { class: 'core:AttributeMap', 0: 'name2oid' },
    },
  };
  await writeFile(join(paths.metadata, 'idp-hosted.json'), JSON.stringify(hosted));
  await writeFile(
    join(paths.metadata, 'saml20-idp-hosted.php'),
    `<?php
$hosted = json_decode(file_get_contents(__DIR__ . '/idp-hosted.json'), true, 512, JSON_THROW_ON_ERROR);
// PHP turns JSON's "100" and "0" keys back into the integer keys authproc expects.
$metadata['__DYNAMIC:1__'] = $hosted;
`,
  );

  const sps = new Map<string, { xml: string; options: Record<string, unknown> }>();
  const writeSps = () => writeFile(join(paths.metadata, 'sp-remote.json'), JSON.stringify([...sps.values()]));
  await writeSps();
  // SimpleSAMLphp's own metadata parser reads our SP metadata (entity id, ACS, certificates, AuthnRequestsSigned);
  // the case's options are laid over it.
  await writeFile(
    join(paths.metadata, 'saml20-sp-remote.php'),
    `<?php
foreach (json_decode(file_get_contents(__DIR__ . '/sp-remote.json'), true, 512, JSON_THROW_ON_ERROR) as $sp) {
    foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsString($sp['xml']) as $entityId => $parsed) {
        $metadata[$entityId] = array_merge($parsed->getMetadata20SP(), $sp['options']);
    }
}
`,
  );

  let output = '';
  const child: ChildProcess = spawn(
    'php',
    ['-S', `127.0.0.1:${port}`, '-t', SIMPLESAMLPHP_WWW, '-d', 'display_errors=stderr', '-d', 'log_errors=0'],
    {
      env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: paths.config },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => {
    // The built-in server logs every connection's opening and closing: noise beside the requests and errors.
    const lines = chunk
      .toString()
      .split('\n')
      .filter((l) => !/\] \S+ (Accepted|Closing)$/.test(l));
    output = (output + lines.join('\n')).slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Should the test process die without running afterAll, php must not be left listening.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const metadataUrl = `${base}saml2/idp/metadata.php`;
  const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      if (/Address already in use/i.test(output)) throw new PortTaken(output);
      throw new Error(`php -S exited at startup:\n${output}`);
    }
    const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    if (res?.status === 200) break;
    if (res && res.status >= 500) {
      const body = await res.text();
      await stop();
      throw new Error(`SimpleSAMLphp's metadata answered ${res.status}:\n${body.slice(0, 2000)}\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`SimpleSAMLphp did not answer on ${metadataUrl}:\n${output}`);
    }
    await sleep(100);
  }

  return {
    base,
    metadataUrl,
    async addSp(entityId, metadataXml, options) {
      sps.set(entityId, { xml: metadataXml, options });
      await writeSps();
    },
    output: () => output,
    stop,
  };
}

/** What SimpleSAMLphp's auto-submit form would have posted to the SP. */
export interface IdpAnswer {
  /** The form's action: where the browser would post (our ACS). */
  action: string;
  samlResponse: string;
  relayState: string | null;
}

/**
 * Signs `user` in at SimpleSAMLphp from our `auth_url` (its SSOService with a signed SAMLRequest), as a browser
 * would: redirects followed with the IdP's cookies, the UserPass form posted with its hidden fields (AuthState),
 * until the HTTP-POST binding's auto-submit form, whose fields are returned (not posted).
 */
export async function signInAt(
  idp: Pick<SimpleSamlPhp, 'output'>,
  authUrl: string,
  user: Pick<SimpleSamlPhpUser, 'username' | 'password'>,
): Promise<IdpAnswer> {
  const jar = new Map<string, string>();
  const request = async (url: string, init: { method?: string; form?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { res, body: await res.text() };
  };
  const fail = (what: string, status: number, body: string): never => {
    throw new Error(
      `SimpleSAMLphp: ${what} (HTTP ${status}):\n${stripTags(body).slice(0, 3000)}\n--- php stderr ---\n${idp.output().slice(-4000)}`,
    );
  };

  let url = authUrl;
  let step: { res: Response; body: string } = await request(url);
  let loggedIn = false;
  for (let hops = 0; hops < 15; hops++) {
    const { res, body } = step;
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      if (!location) fail('a redirect without Location', res.status, body);
      url = new URL(location!, url).toString();
      step = await request(url);
      continue;
    }
    if (res.status !== 200) fail(`unexpected answer at ${url}`, res.status, body);
    const form = firstForm(body, url);
    if (!form) fail(`no form at ${url}`, res.status, body);
    if (form!.fields.SAMLResponse !== undefined) {
      return {
        action: form!.action,
        samlResponse: form!.fields.SAMLResponse,
        relayState: form!.fields.RelayState ?? null,
      };
    }
    if (form!.fields.AuthState === undefined || loggedIn)
      fail(`an unexpected form at ${url}`, res.status, body);
    loggedIn = true;
    step = await request(form!.action, {
      method: 'POST',
      form: { ...form!.fields, username: user.username, password: user.password },
    });
    url = form!.action;
  }
  throw new Error(`SimpleSAMLphp: too many redirects from ${authUrl}\n${idp.output().slice(-4000)}`);
}

/** The first <form> of a page: its action (resolved against the page URL) and its named input values. */
function firstForm(html: string, pageUrl: string): { action: string; fields: Record<string, string> } | null {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const action = attributesOf(form[1]!).action ?? '';
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input\b([^>]*)>/gi)) {
    const attrs = attributesOf(input[1]!);
    if (attrs.name && attrs.type !== 'checkbox' && attrs.type !== 'submit')
      fields[attrs.name] = attrs.value ?? '';
  }
  return { action: new URL(decodeEntities(action), pageUrl).toString(), fields };
}

function attributesOf(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return out;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#039;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function stripTags(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}
