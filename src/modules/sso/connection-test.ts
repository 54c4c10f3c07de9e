/**
 * "Test connection" (issue 19): a tenant admin starts a sign-in through a connection (enabled or not) and, once the
 * identity provider answers, sees what it sent — the identity as this API reads it, and for SAML every attribute —
 * or why it was refused. Nobody is created, linked or signed in; the start and the result are audited.
 *
 * The flow is the normal one (./callback.ts) with `test` in its state: its redirect_uri is the console page
 * `/admin/sso/{connection id}/test`, which gets `?result=<id>` and reads the result (kept TEN_MINUTES in the shared store, for that
 * connection only) with the admin's token.
 */
import { randomBytes } from 'node:crypto';
import type { AuditContext } from '../../platform/audit/writer.js';
import { writeAudit } from '../../platform/audit/writer.js';
import { notFound } from '../../platform/http/errors.js';
import type { SsoDeps } from './deps.js';
import type { FlowState } from './flows.js';

/** What a verify strategy read (./signin.ts VerifiedIdentity, by its shape: signin.ts reaches the service). */
interface TestedIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  mfaAsserted?: boolean;
  attributes?: { name: string; friendlyName: string | null; values: string[] }[];
}

const RESULT_TTL_SECONDS = 600;
const resultKey = (tenantId: number, connectionId: string, resultId: string) =>
  `sso:test:${tenantId}:${connectionId}:${resultId}`;

/** The console page a test of that connection ends on. */
export const testResultPageOf = (publicUrl: string, connectionId: string) =>
  `${publicUrl.replace(/\/+$/, '')}/admin/sso/${connectionId}/test`;

export interface ConnectionTestResult {
  result_id: string;
  connection_id: string;
  ok: boolean;
  /** The refusal's code (SAML_SIGNATURE_INVALID, SSO_ISSUER_MISMATCH, ...) when the answer was refused. */
  error: string | null;
  identity: {
    issuer: string;
    subject: string;
    email: string | null;
    email_verified: boolean;
    name: string | null;
    given_name: string | null;
    family_name: string | null;
    mfa_asserted: boolean;
  } | null;
  /** SAML: every attribute of the signed assertion, as sent. */
  attributes: { name: string; friendly_name: string | null; values: string[] }[];
  tested_at: string;
}

/** A fresh result id for a test flow (kept in its state). */
export const newTestResultId = () => randomBytes(16).toString('base64url');

/** Keeps what the IdP answered (or the refusal) for the console page, and audits the test's outcome. */
export async function recordTestResult(
  ctx: SsoDeps,
  flow: Pick<FlowState, 'tenantId' | 'connectionId' | 'test'>,
  audit: AuditContext,
  outcome: { identity: TestedIdentity } | { error: string },
): Promise<string> {
  const resultId = flow.test!.resultId;
  const connectionId = flow.connectionId!;
  const id = 'identity' in outcome ? outcome.identity : null;
  const result: ConnectionTestResult = {
    result_id: resultId,
    connection_id: connectionId,
    ok: id !== null,
    error: 'error' in outcome ? outcome.error : null,
    identity: id && {
      issuer: id.issuer,
      subject: id.subject,
      email: id.email,
      email_verified: id.emailVerified,
      name: id.name ?? null,
      given_name: id.givenName ?? null,
      family_name: id.familyName ?? null,
      mfa_asserted: id.mfaAsserted === true,
    },
    attributes: (id?.attributes ?? []).map((a) => ({
      name: a.name,
      friendly_name: a.friendlyName,
      values: a.values,
    })),
    tested_at: new Date(ctx.clock.now()).toISOString(),
  };
  await ctx.database.withTenant(flow.tenantId, (tx) =>
    writeAudit(tx, flow.tenantId, audit, {
      eventType: 'sso.connection_tested',
      resourceType: 'sso_connection',
      resourceId: connectionId,
      success: result.ok,
      metadata: { result_id: resultId, error: result.error, subject: id?.subject ?? null },
    }),
  );
  await ctx.store.set(
    resultKey(flow.tenantId, connectionId, resultId),
    JSON.stringify(result),
    RESULT_TTL_SECONDS,
  );
  return resultId;
}

/** A test's result, for an admin of the connection's tenant (404 once expired, or for another connection). */
export async function readTestResult(
  ctx: SsoDeps,
  tenantId: number,
  connectionId: string,
  resultId: string,
): Promise<ConnectionTestResult> {
  const raw = await ctx.store.get(resultKey(tenantId, connectionId, resultId));
  if (!raw) throw notFound('sso_connection_test');
  return JSON.parse(raw) as ConnectionTestResult;
}
