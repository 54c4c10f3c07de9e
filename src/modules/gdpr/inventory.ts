/**
 * The record of processing (GDPR art. 30) as the API serves it at GET /gdpr/inventory. Keep it in step with
 * docs/gdpr-inventory.md; the retention of audit records comes from the tenant's own setting.
 */
export function inventory(auditRetentionDays: number | null) {
  const auditRetention = auditRetentionDays
    ? `${auditRetentionDays} days, then archived and pruned (massacorp audit prune)`
    : 'kept until the tenant sets audit_retention_days (then archived and pruned)';
  return {
    controller: 'The customer tenant (MassaCorp acts as processor for its tenants)',
    data_categories: [
      {
        category: 'identity',
        fields: ['email', 'first_name', 'last_name', 'phone'],
        purpose: 'Account identification, sign-in, security notifications',
        legal_basis: 'contract (art. 6(1)(b))',
        retention:
          'life of the account; erased or anonymised on request (DELETE /gdpr/delete, POST /gdpr/anonymize)',
        tables: ['users'],
      },
      {
        category: 'credentials',
        fields: [
          'password_hash (argon2id)',
          'TOTP secret (AES-256-GCM)',
          'recovery codes (hashed)',
          'API keys (SHA-256)',
          'password reset tokens (SHA-256)',
        ],
        purpose: 'Authentication',
        legal_basis: 'contract (art. 6(1)(b)); security (art. 32)',
        retention: 'life of the credential; reset tokens 1 hour; erased with the account',
        tables: [
          'users',
          'mfa_totp',
          'mfa_recovery_codes',
          'webauthn_credentials',
          'api_keys',
          'password_reset_tokens',
        ],
      },
      {
        category: 'sessions and devices',
        fields: ['ip_address', 'user_agent', 'device_type', 'browser', 'os', 'created_at', 'last_seen_at'],
        purpose: 'Session management, new-device alerts, fraud prevention',
        legal_basis: 'legitimate interest in securing accounts (art. 6(1)(f))',
        retention: 'session lifetime (30 days absolute) plus history; deleted on erasure',
        tables: ['sessions', 'refresh_tokens'],
      },
      {
        category: 'audit trail',
        fields: [
          'event, actor id, resource, time, ip_address, user_agent',
          'personal values in metadata (stored apart, in audit_pii)',
        ],
        purpose: 'Security and compliance evidence (SOC 2, ISO 27001 A.8.15), tamper-evident by hash chain',
        legal_basis: 'legal obligation and legitimate interest (art. 6(1)(c), 6(1)(f))',
        retention: auditRetention,
        tables: ['audit_log', 'audit_pii', 'audit_anchors'],
        erasure:
          'records are never deleted by erasure; the personal values they point to are, leaving opaque pseudonyms',
      },
      {
        category: 'network access',
        fields: ['WireGuard public key', 'assigned address', 'handshake and traffic counters'],
        purpose: 'Private network access to the API',
        legal_basis: 'contract (art. 6(1)(b))',
        retention: 'life of the peer; revoked with the account',
        tables: ['wg_peers'],
      },
      {
        category: "events sent to the tenant's applications",
        fields: ['webhook payloads: copies of audit events with their personal values (email, names)'],
        purpose: "Notifying the tenant's own applications and SIEM (webhooks, audit stream)",
        legal_basis: 'contract (art. 6(1)(b)); legitimate interest (art. 6(1)(f))',
        retention:
          'delivery log kept WEBHOOK_DELIVERY_RETENTION_DAYS (30 days by default) after delivery or final failure',
        tables: ['webhook_deliveries'],
        erasure: "the erased user's values are replaced by their pseudonym in every delivery, sent or owed",
      },
      {
        category: 'login throttling',
        fields: ['(tenant, email) failed-attempt counters'],
        purpose: 'Brute-force protection',
        legal_basis: 'legitimate interest (art. 6(1)(f))',
        retention: '30 minutes (Redis TTL); cleared on erasure',
        tables: [],
      },
    ],
    processors: [
      {
        name: 'Hosting provider (PostgreSQL, Redis, compute)',
        purpose: 'Storage and processing',
        location: 'as chosen by the operator (EU by default)',
      },
      {
        name: 'SMTP relay (SMTP_URL)',
        purpose: 'Reset links and security alerts',
        location: 'as configured by the operator',
      },
    ],
    rights: [
      {
        right: 'access and portability (art. 15, 20)',
        how: 'GET /api/v1/gdpr/export (self) or /gdpr/export/{user_id} (gdpr.manage), JSON',
      },
      { right: 'rectification (art. 16)', how: 'PUT /api/v1/users/me or PUT /api/v1/users/{id}' },
      { right: 'erasure (art. 17)', how: 'DELETE /api/v1/gdpr/delete (gdpr.manage)' },
      { right: 'restriction / pseudonymisation (art. 18)', how: 'POST /api/v1/gdpr/anonymize (gdpr.manage)' },
      { right: 'objection (art. 21)', how: 'contact the tenant administrator (controller)' },
    ],
  };
}
