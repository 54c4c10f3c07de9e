import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
import type { SsoDeps } from './deps.js';
import type { CreateConnection, UpdateConnection } from './schemas.js';
import type { ConnectionRow, ConnectionType } from './tables.js';

export interface AuthorizeInput {
  tenantId: number;
  connection: ConnectionRow;
  state: string;
  redirectUri: string;
}

export interface SsoFlow {
  type: ConnectionType;
  authorize(
    ctx: SsoDeps,
    input: AuthorizeInput,
  ): Promise<{ authUrl: string; data?: Record<string, unknown> }>;
  routes?: (ctx: SsoDeps) => FastifyPluginAsyncTypebox;
  /**
   * Completes a connection's settings before they are checked and saved (SAML: reads the IdP's metadata, pasted or
   * fetched). Runs outside any transaction, since it may fetch.
   */
  prepareConnection?: <B extends ConnectionInput>(ctx: SsoDeps, body: B) => Promise<B>;
  validateConnection?: (ctx: SsoDeps, input: Record<string, unknown>, type: ConnectionType) => void;
}

/** The protocol parts of a connection's create or update body. */
export type ConnectionInput = Pick<CreateConnection | UpdateConnection, 'saml'>;

const registry = new Map<ConnectionType, SsoFlow>();

export function registerFlow(flow: SsoFlow): void {
  registry.set(flow.type, flow);
}

export function flowFor(type: ConnectionType): SsoFlow | null {
  return registry.get(type) ?? null;
}

export function registeredFlows(): SsoFlow[] {
  return [...registry.values()];
}

// ---- single-use flow state (ctx.store, taken atomically) ----

/** How long a user may take at the identity provider. */
export const FLOW_TTL_SECONDS = 600;

/**
 * Link mode (API.md §17): the signed-in caller who started the flow (in the flow's tenant). The callback then
 * links the verified identity to this user instead of signing anyone in.
 */
export interface LinkTarget {
  userId: number;
  sessionId: string | null;
}

/**
 * One record per sign-in flow, for every protocol (enterprise OIDC and SAML, social providers): saved at
 * authorize under the state, taken once by the callback (./callback.ts). There is no other record of a flow: SAML's
 * AuthnRequest id is derived from the state (see flowRef) and kept here in `data`.
 */
export interface FlowState {
  tenantId: number;
  /**
   * The verify strategy that reads the answer (./callback.ts): a connection type ('oidc', 'saml') for enterprise
   * flows, `oauth:<provider>` for social ones.
   */
  type: string;
  /** Enterprise flows: the connection. Social flows: null. */
  connectionId: string | null;
  /** Social flows: the provider (google, github, microsoft, oidc). */
  provider?: string;
  /** Enterprise flows: the client's redirect_uri, where the browser ends. Social flows answer JSON: null. */
  redirectUri: string | null;
  /** Protocol data (PKCE verifier, nonce, SAML request id). */
  data: Record<string, unknown>;
  /** The client application's state, echoed on the final redirect (API.md §17). */
  clientState?: string;
  /** The client application's PKCE S256 challenge: the one-time code is redeemed only with its verifier. */
  codeChallenge?: string;
  createdAt: number;
  /** Present in link mode only. */
  link?: LinkTarget;
  /**
   * A connection test (./connection-test.ts): the answer is shown to the admin who started it, never signs anyone
   * in, creates or links anybody. redirectUri is then the console's result page.
   */
  test?: { resultId: string };
}

// Store keys name a hash of the secret, never the secret itself.
const hashed = sha256Hex;
/**
 * The public name of a flow: the SHA-256 of its state, which its store keys are made of. SAML sends it as the
 * AuthnRequest id (`_` + ref), so that a response's InResponseTo names the flow it answers without a second record.
 */
export const flowRef = (state: string) => hashed(state);
const flowKey = (state: string) => refKey(flowRef(state));
const refKey = (ref: string) => `sso:flow:${ref}`;

export function newState(): string {
  return randomToken();
}

export async function saveFlowState(ctx: SsoDeps, state: string, flow: FlowState): Promise<void> {
  await ctx.store.set(flowKey(state), JSON.stringify(flow), FLOW_TTL_SECONDS);
}

const usedKey = (state: string) => `sso:flow:used:${flowRef(state)}`;

/**
 * The flow of a state, removed as it is read: a second call (a replay, on any replica) gets null. The state is
 * then remembered as used (tenant, connection and redirect_uri only) for FLOW_TTL_SECONDS, so that a replay
 * can be audited in its tenant and answered on its redirect_uri (see usedFlowState).
 */
export async function takeFlowState(ctx: SsoDeps, state: string | undefined): Promise<FlowState | null> {
  if (!state || state.length > 512) return null;
  const raw = await ctx.store.take(flowKey(state));
  if (!raw) return null;
  const flow = JSON.parse(raw) as FlowState;
  const used: UsedFlow = {
    tenantId: flow.tenantId,
    connectionId: flow.connectionId,
    ...(flow.provider !== undefined ? { provider: flow.provider } : {}),
    redirectUri: flow.redirectUri,
  };
  await ctx.store.set(usedKey(state), JSON.stringify(used), FLOW_TTL_SECONDS);
  return flow;
}

export type UsedFlow = Pick<FlowState, 'tenantId' | 'connectionId' | 'provider' | 'redirectUri'>;

/** A state that was already taken (a replay): what is needed to audit and answer it, or null if unknown. */
export async function usedFlowState(ctx: SsoDeps, state: string | undefined): Promise<UsedFlow | null> {
  if (!state || state.length > 512) return null;
  const raw = await ctx.store.get(usedKey(state));
  return raw ? (JSON.parse(raw) as UsedFlow) : null;
}

/**
 * Whether a live flow has that ref (SAML: the flow whose AuthnRequest a response answers, looked up by the
 * request id; a flow already taken or expired is not live).
 */
export async function flowRefLive(ctx: SsoDeps, ref: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(ref)) return false;
  return (await ctx.store.get(refKey(ref))) !== null;
}
