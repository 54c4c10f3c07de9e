/**
 * THE callback of every external sign-in (API.md §17 and §9), one flow for all protocols, as Kratos' login
 * strategies: take the state (single use), refuse a replay or a foreign state, let the protocol's strategy load
 * what the flow names and verify the answer, complete, then redirect or answer JSON. A protocol or a social
 * provider only brings its `VerifyStrategy` (how to read and check its answer); everything else is here.
 *
 * No Fastify type: routes turn the request into a CallbackInput and the CallbackOutcome into the reply
 * (./reply.ts). A failure is audited (sso.login_failed) in the flow's tenant and answered by the completion:
 * an enterprise flow redirects to its redirect_uri with ?error=<CODE>, social login answers the error envelope.
 */

import type { AuditContext } from '../../platform/audit/writer.js';
import { AppError } from '../../platform/http/errors.js';
import type { ClientInfo } from '../sessions/index.js';
import { recordTestResult } from './connection-test.js';
import type { SsoDeps } from './deps.js';
import { ssoError } from './errors.js';
import { type FlowState, takeFlowState, type UsedFlow, usedFlowState } from './flows.js';
import { linkToCaller } from './identities.js';
import { auditSignInFailure, completeSsoSignIn, failureCode, type VerifiedIdentity } from './signin.js';

/** What a callback route hands the flow, whatever the protocol. */
export interface CallbackInput {
  /** The state the identity provider echoed (OIDC/OAuth `state`, SAML `RelayState`). */
  state: string | undefined;
  /** The protocol's answer: the raw query string (OIDC, OAuth 2), the posted SAMLResponse (SAML). */
  answer: string;
  /** What the callback's path names: the connection id (OIDC), the provider (social); none for the SAML ACS. */
  target?: string;
  audit: AuditContext;
  /** The caller's address and user agent (for the session a social sign-in opens at once). */
  client: ClientInfo;
  /** The caller is a program that wants JSON, not a browser redirect. */
  json: boolean;
}

/** How the route answers: a 302 to `redirect`, or `json` (200); both with cache-control no-store. */
export type CallbackOutcome = { redirect: string } | { json: object };

/** A flow that was live (taken now), or only known as used (a replay): what a failure is audited and answered on. */
export type KnownFlow = (FlowState | UsedFlow) & Pick<FlowState, 'clientState'>;

/** How a verified sign-in ends, and how a failure of a known flow is answered. */
export interface Completion {
  complete(
    ctx: SsoDeps,
    flow: FlowState,
    id: VerifiedIdentity,
    input: CallbackInput,
  ): Promise<CallbackOutcome>;
  /** null: the error envelope (the error is thrown). */
  failure(
    ctx: SsoDeps,
    flow: KnownFlow,
    code: string,
    input: CallbackInput,
  ): Promise<CallbackOutcome | null> | CallbackOutcome | null;
}

/** One protocol (OIDC, SAML) or social provider: how its answer is read and checked. */
export interface VerifyStrategy {
  /** FlowState.type of the flows it answers. */
  type: string;
  completion: Completion;
  /** Audit failures under this provider (social: the callback's), else the flow's connection or provider. */
  provider?: string;
  /** The refusal of a state that names no live flow: `used` is the flow of a replay, null an unknown state. */
  withoutFlow?(ctx: SsoDeps, input: CallbackInput, used: UsedFlow | null): Promise<AppError> | AppError;
  /** The refusal of a live flow of another strategy (taken: that flow is over too). */
  foreignFlow?(ctx: SsoDeps, flow: FlowState, input: CallbackInput): Promise<AppError> | AppError;
  /** Loads what the flow names (its connection, the provider) and verifies the answer; throws an AppError. */
  verify(ctx: SsoDeps, flow: FlowState, input: CallbackInput): Promise<VerifiedIdentity>;
}

/** An AppError whose reason (for the audit record, not the client) says which check failed. */
export function refusal(err: AppError, reason: string): AppError {
  Object.defineProperty(err, 'reason', { value: reason, enumerable: false });
  return err;
}

const reasonOf = (err: unknown) =>
  (err as { reason?: string }).reason ?? (err instanceof Error ? err.message : undefined);

/** The one callback flow. */
export async function runCallback(
  ctx: SsoDeps,
  strategy: VerifyStrategy,
  input: CallbackInput,
): Promise<CallbackOutcome> {
  const flow = await takeFlowState(ctx, input.state);
  if (!flow) {
    // A replayed state is known (audited in its tenant, answered on its redirect_uri); an unknown one has no
    // tenant to audit in.
    const used = await usedFlowState(ctx, input.state);
    const err = strategy.withoutFlow
      ? await strategy.withoutFlow(ctx, input, used)
      : used
        ? refusal(ssoError('SSO_STATE_INVALID', { reason: 'replayed' }), 'replayed')
        : ssoError('SSO_STATE_INVALID');
    return fail(ctx, strategy, input, used, err);
  }
  try {
    if (flow.type !== strategy.type)
      throw strategy.foreignFlow
        ? await strategy.foreignFlow(ctx, flow, input)
        : refusal(ssoError('SSO_STATE_INVALID'), `state of a ${flow.type} flow`);
    const identity = await strategy.verify(ctx, flow, input);
    return await strategy.completion.complete(ctx, flow, identity, input);
  } catch (err) {
    return fail(ctx, strategy, input, flow, err);
  }
}

/** Audits the failure in the known flow's tenant, then the completion's answer, else the error envelope. */
async function fail(
  ctx: SsoDeps,
  strategy: VerifyStrategy,
  input: CallbackInput,
  flow: KnownFlow | null,
  err: unknown,
): Promise<CallbackOutcome> {
  const code = failureCode(err);
  if (!(err instanceof AppError)) ctx.log.warn({ err }, 'sign-in callback failed');
  if (flow) {
    await auditSignInFailure(ctx, flow.tenantId, input.audit, {
      connectionId: flow.connectionId,
      provider: strategy.provider ?? flow.provider,
      code,
      reason: reasonOf(err),
    });
    const answer = await strategy.completion.failure(ctx, flow, code, input);
    if (answer) return answer;
  }
  throw err instanceof AppError ? err : ssoError('SSO_RESPONSE_INVALID');
}

// ---- enterprise SSO's completion (OIDC and SAML connections, API.md §17) ----

/** The flow's redirect_uri with these parameters (and the client's state when it gave one). */
function redirectTo(redirectUri: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/** The client's own state, echoed next to `code` or `error` (only by the flow's first callback, never a replay). */
const clientStateOf = (flow: { clientState?: string | undefined }): Record<string, string> =>
  flow.clientState !== undefined ? { state: flow.clientState } : {};

/** Browsers get a redirect to the flow's redirect_uri with these parameters; programs the same as JSON. */
function answer(flow: KnownFlow, input: CallbackInput, params: Record<string, string>): CallbackOutcome {
  // Enterprise flows always have a redirect_uri (authorize checked it against the connection's allow-list).
  const redirectUri = flow.redirectUri!;
  const all = { ...params, ...clientStateOf(flow) };
  if (!input.json) return { redirect: redirectTo(redirectUri, all) };
  return { json: { redirect_uri: redirectUri, ...all } };
}

/**
 * Enterprise connections: in link mode the identity is linked to the caller and the browser goes to redirect_uri
 * with `?linked=1` (JSON: `{redirect_uri, linked: true}`), no code and no tokens; otherwise the sign-in completes
 * with a one-time code (JSON: `{redirect_uri, code}`), with the client's state when it gave one. A failure of a
 * known flow goes to redirect_uri as `?error=<CODE>` (never a code) for browsers; JSON clients get the envelope.
 */
export const enterpriseCompletion: Completion = {
  async complete(ctx, flow, id, input) {
    if (flow.test) {
      const result = await recordTestResult(ctx, flow, input.audit, { identity: id });
      return answer(flow, input, { result });
    }
    if (flow.link) {
      await linkToCaller(ctx, id, flow.link, input.audit);
      return input.json
        ? { json: { redirect_uri: flow.redirectUri, linked: true, ...clientStateOf(flow) } }
        : answer(flow, input, { linked: '1' });
    }
    const code = await completeSsoSignIn(ctx, id, input.audit, flow);
    return answer(flow, input, { code });
  },
  async failure(ctx, flow, code, input) {
    // A connection test shows the refusal on the console's page (in JSON too: the admin asked for the answer).
    if ('test' in flow && flow.test) {
      const result = await recordTestResult(ctx, flow, input.audit, { error: code });
      return answer(flow, input, { result, error: code });
    }
    // A social flow's state posted here has no redirect_uri: the envelope.
    return input.json || !flow.redirectUri ? null : answer(flow, input, { error: code });
  },
};
