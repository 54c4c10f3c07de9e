import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../platform/context.js';
import { randomToken, sha256Hex } from '../../platform/crypto/tokens.js';
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
    ctx: AppContext,
    input: AuthorizeInput,
  ): Promise<{ authUrl: string; data?: Record<string, unknown> }>;
  routes?: (ctx: AppContext) => FastifyPluginAsyncTypebox;
  validateConnection?: (ctx: AppContext, input: Record<string, unknown>, type: ConnectionType) => void;
}

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

export interface FlowState {
  tenantId: number;
  connectionId: string;
  type: ConnectionType;
  redirectUri: string;
  /** Protocol data (PKCE verifier, nonce, request id). */
  data: Record<string, unknown>;
  /** The client application's state, echoed on the final redirect (API.md §17). */
  clientState?: string;
  /** The client application's PKCE S256 challenge: the one-time code is redeemed only with its verifier. */
  codeChallenge?: string;
  createdAt: number;
  /** Present in link mode only. */
  link?: LinkTarget;
}

// Store keys name a hash of the secret, never the secret itself.
const hashed = sha256Hex;
const flowKey = (state: string) => `sso:flow:${hashed(state)}`;

export function newState(): string {
  return randomToken();
}

export async function saveFlowState(ctx: AppContext, state: string, flow: FlowState): Promise<void> {
  await ctx.store.set(flowKey(state), JSON.stringify(flow), FLOW_TTL_SECONDS);
}

const usedKey = (state: string) => `sso:flow:used:${hashed(state)}`;

/**
 * The flow of a state, removed as it is read: a second call (a replay, on any replica) gets null. The state is
 * then remembered as used (tenant, connection and redirect_uri only) for FLOW_TTL_SECONDS, so that a replay
 * can be audited in its tenant and answered on its redirect_uri (see usedFlowState).
 */
export async function takeFlowState(ctx: AppContext, state: string | undefined): Promise<FlowState | null> {
  if (!state || state.length > 512) return null;
  const raw = await ctx.store.take(flowKey(state));
  if (!raw) return null;
  const flow = JSON.parse(raw) as FlowState;
  const used: UsedFlow = {
    tenantId: flow.tenantId,
    connectionId: flow.connectionId,
    redirectUri: flow.redirectUri,
  };
  await ctx.store.set(usedKey(state), JSON.stringify(used), FLOW_TTL_SECONDS);
  return flow;
}

export type UsedFlow = Pick<FlowState, 'tenantId' | 'connectionId' | 'redirectUri'>;

/** A state that was already taken (a replay): what is needed to audit and answer it, or null if unknown. */
export async function usedFlowState(ctx: AppContext, state: string | undefined): Promise<UsedFlow | null> {
  if (!state || state.length > 512) return null;
  const raw = await ctx.store.get(usedKey(state));
  return raw ? (JSON.parse(raw) as UsedFlow) : null;
}
