/**
 * The ONE fake of the social login tests: GitHub (github.com and api.github.com) cannot be reached from here and
 * has no open-source server, so this small loopback HTTP server speaks the parts of GitHub's OAuth 2 and REST API
 * that the app uses, as GitHub documents them: GET /login/oauth/authorize (redirects with code and state),
 * POST /login/oauth/access_token (client_secret_post, PKCE S256 checked, single-use codes, errors as HTTP 200
 * with an `error` field like GitHub), GET /user and GET /user/emails (bearer token).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubAccount {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}

export interface FakeGithub {
  url: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, GithubAccount>;
  /** Which account the next authorize signs in as. */
  signInAs: string | null;
  tokenRequests: number;
  close(): Promise<void>;
}

export async function startFakeGithub(): Promise<FakeGithub> {
  const codes = new Map<string, { login: string; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, string>();
  const state: FakeGithub = {
    url: '',
    clientId: 'gh-client',
    clientSecret: 'gh-secret-0123456789',
    accounts: new Map(),
    signInAs: null,
    tokenRequests: 0,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', state.url);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams;
      if (
        q.get('client_id') !== state.clientId ||
        q.get('code_challenge_method') !== 'S256' ||
        !state.signInAs
      )
        return json(res, 400, { error: 'bad authorize request' });
      const code = randomBytes(10).toString('hex');
      codes.set(code, {
        login: state.signInAs,
        challenge: q.get('code_challenge') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
      });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      state.tokenRequests++;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('client_id') !== state.clientId || form.get('client_secret') !== state.clientSecret)
        return json(res, 200, { error: 'incorrect_client_credentials' });
      const pending = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !pending ||
        pending.redirectUri !== form.get('redirect_uri') ||
        createHash('sha256').update(verifier).digest('base64url') !== pending.challenge
      )
        return json(res, 200, { error: 'bad_verification_code' });
      const token = `gho_${randomBytes(16).toString('hex')}`;
      tokens.set(token, pending.login);
      return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const auth = req.headers.authorization ?? '';
    const login = tokens.get(auth.replace(/^Bearer /i, ''));
    const account = login ? state.accounts.get(login) : undefined;
    if (!account) return json(res, 401, { message: 'Bad credentials' });
    if (req.method === 'GET' && url.pathname === '/user')
      return json(res, 200, { id: account.id, login: account.login, name: account.name });
    if (req.method === 'GET' && url.pathname === '/user/emails') return json(res, 200, account.emails);
    return json(res, 404, { message: 'Not Found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** Follows the fake's authorize redirect; returns the callback URL it sends the browser to. */
export async function driveGithub(authUrl: string): Promise<URL> {
  const res = await fetch(authUrl, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`fake GitHub answered ${res.status}`);
  return new URL(location);
}
