/**
 * The event catalogue: which audit records become which webhook event. The audit log is the outbox (drizzle/0037),
 * so an event type is a name for one or more audit event types; `audit.record` is every record, batched. Event
 * bodies are versioned by `SCHEMA_VERSION` (docs/webhooks.md lists each type's `data`).
 */

/** The `data` shape of every single event (docs/webhooks.md): bump on an incompatible change. */
export const SCHEMA_VERSION = '2026-12-01';

/** Webhook event type → the audit event types it stands for. */
export const EVENT_SOURCES: Record<string, readonly string[]> = {
  'user.created': ['user.created', 'user.registered', 'sso.identity_created'],
  'user.updated': ['user.updated', 'user.profile_updated', 'user.verified'],
  'user.deactivated': ['user.deactivated'],
  'user.activated': ['user.activated'],
  'user.deleted': ['user.deleted', 'gdpr.erased', 'gdpr.anonymized'],
  'session.created': ['auth.login_success', 'sso.login_succeeded'],
  'session.revoked': ['session.terminated', 'auth.logout', 'sso.sessions_revoked'],
  'role.assigned': ['role.assigned'],
  'role.removed': ['role.unassigned'],
  'mfa.enabled': ['mfa.enabled', 'mfa.webauthn_registered'],
  'mfa.disabled': ['mfa.disabled', 'mfa.webauthn_deleted'],
  'mfa.reset': ['mfa.reset', 'user.mfa_reset'],
  'sso.login': ['sso.login_succeeded'],
  'sso.login_failed': ['sso.login_failed'],
  'api_key.created': ['api_key.created'],
  'api_key.revoked': ['api_key.revoked'],
  'wireguard.peer_created': ['wireguard.peer.created'],
  'wireguard.peer_revoked': ['wireguard.peer.revoked', 'wireguard.peer.deleted', 'wireguard.peer.expired'],
  'invitation.created': ['invitation.created'],
  'invitation.accepted': ['invitation.accepted'],
};

/** The stream of every audit record (batched, in chain order, hashes included). */
export const AUDIT_STREAM = 'audit.record';

export const EVENT_TYPES: readonly string[] = [...Object.keys(EVENT_SOURCES), AUDIT_STREAM];

/** A subscription: an event type, a family (`user.*`) or everything (`*`). */
export function isKnownSubscription(s: string): boolean {
  if (s === '*') return true;
  if (s.endsWith('.*')) return EVENT_TYPES.some((t) => t.startsWith(s.slice(0, -1)));
  return EVENT_TYPES.includes(s);
}

const BY_AUDIT_TYPE = new Map<string, string[]>();
for (const [type, sources] of Object.entries(EVENT_SOURCES))
  for (const s of sources) BY_AUDIT_TYPE.set(s, [...(BY_AUDIT_TYPE.get(s) ?? []), type]);

function subscribed(subscriptions: readonly string[], type: string): boolean {
  return subscriptions.some(
    (s) =>
      s === type ||
      // `*` and families cover the single events; the audit stream is only ever named on its own.
      (type !== AUDIT_STREAM && (s === '*' || (s.endsWith('.*') && type.startsWith(s.slice(0, -1))))),
  );
}

/** The webhook event types an audit record of `auditType` becomes for an endpoint subscribed to `subscriptions`. */
export function eventTypesFor(
  auditType: string,
  success: boolean,
  subscriptions: readonly string[],
): string[] {
  // A refused attempt is an event only where the catalogue names the failure itself (sso.login_failed).
  const types = (BY_AUDIT_TYPE.get(auditType) ?? []).filter((t) => success || t.endsWith('_failed'));
  return types.filter((t) => subscribed(subscriptions, t));
}

export function streamsAudit(subscriptions: readonly string[]): boolean {
  return subscriptions.includes(AUDIT_STREAM);
}
