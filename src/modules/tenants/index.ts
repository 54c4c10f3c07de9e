/** The tenants module's door: what other modules may use of it. */

// --- exports used by gdpr, features, wireguard ---
export { isPlatformTenant, readTenantSettings } from './service.js';
