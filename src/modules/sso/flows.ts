/**
 * The plug-in point of SSO protocols. The core (this module) owns connections, domains, the single-use flow
 * state, the redirect_uri allow-list, the shared sign-in completion (signin.ts) and the one-time code; each
 * protocol contributes an SsoFlow:
 *
 *   - `type`: the connection type it serves ('oidc' here, 'saml' in ./saml/).
 *   - `authorize(ctx, { connection, state, redirectUri, tenantId })`: builds the identity provider URL for an
 *     SP-initiated sign-in and returns `{ authUrl, data }`. `state` is the opaque value to send along (OIDC
 *     `state`, SAML `RelayState`); `data` is kept with it (PKCE verifier, nonce, AuthnRequest id for
 *     InResponseTo) and handed back by takeFlowState. The core has already checked that the connection is
 *     enabled, of this type, and that redirectUri is in its allow-list.
 *   - `routes(ctx)` (optional): the protocol's own routes, mounted under /api/v1/sso (OIDC: GET /oidc/callback;
 *     SAML: POST /saml/acs, GET /saml/:id/metadata). Each declares its access like any route.
 *   - `validateConnection(input)` (optional): extra checks of the protocol's fields when a connection is
 *     created or changed (throw validationError for a 422).
 *
 * A callback route calls `takeFlowState(ctx, state)` (atomic: a replayed state gets null, on any replica), then
 * on success `completeSsoSignIn` (signin.ts) and redirects with `redirectWithCode`, or on failure
 * `failFlow(...)`, which audits and redirects with `?error=<CODE>` (see signin.ts).
 *
 * SAML registers by listing its flow in ./saml/index.ts `samlFlows` (the only file the SAML engineer's work
 * touches outside ./saml/), which index.ts includes.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../platform/context.js';
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

export interface FlowState {
  tenantId: number;
  connectionId: string;
  type: ConnectionType;
  redirectUri: string;
  /** Protocol data (PKCE verifier, nonce, request id). */
  data: Record<string, unknown>;
  createdAt: number;
}

const hashed = (value: string) => createHash('sha256').update(value).digest('base64url');
const flowKey = (state: string) => `sso:flow:${hashed(state)}`;

export function newState(): string {
  return randomBytes(32).toString('base64url');
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
