/** The tenants module's door: what other modules may use of it. */

// --- exports used by auth, mfa, password-reset ---
export { getTenant, resolveTenantHeader, resolveTenantId, tenantRequiresMfaSql } from './service.js';
export { type PasswordPolicy, resolveSettings, type TenantSettings } from './settings.js';
export type { TenantRow } from './tables.js';
