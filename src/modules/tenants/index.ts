/** The tenants module's door: what other modules may use of it. */

// --- exports used by gdpr ---
export { readTenantSettings } from './service.js';
