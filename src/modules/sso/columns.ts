/**
 * The columns each SSO read returns, named (issue 23 item 7): a column added to a table reaches no read until it
 * is listed here. Shared by the enterprise (../repository.ts) and social (./social/repository.ts) repositories.
 */
import { tenantRows } from '../../platform/db/tenant-rows.js';
import { externalIdentities, ssoConnections, ssoDomains } from './tables.js';

/**
 * A connection as every read returns it. `oidcClientSecretSealed` is here because the sign-in flow opens it and
 * the API answers `has_client_secret` from it (issue 23 notes: the admin reads could select a boolean instead).
 */
export const connectionColumns = {
  id: ssoConnections.id,
  tenantId: ssoConnections.tenantId,
  type: ssoConnections.type,
  name: ssoConnections.name,
  enabled: ssoConnections.enabled,
  defaultRole: ssoConnections.defaultRole,
  jitProvisioning: ssoConnections.jitProvisioning,
  ssoRequired: ssoConnections.ssoRequired,
  trustMfa: ssoConnections.trustMfa,
  redirectUris: ssoConnections.redirectUris,
  oidcIssuer: ssoConnections.oidcIssuer,
  oidcClientId: ssoConnections.oidcClientId,
  oidcClientSecretSealed: ssoConnections.oidcClientSecretSealed,
  samlIdpEntityId: ssoConnections.samlIdpEntityId,
  samlIdpSsoUrl: ssoConnections.samlIdpSsoUrl,
  samlIdpCertificate: ssoConnections.samlIdpCertificate,
  samlSpEntityId: ssoConnections.samlSpEntityId,
  samlIdpCertificateNext: ssoConnections.samlIdpCertificateNext,
  samlIdpMetadataUrl: ssoConnections.samlIdpMetadataUrl,
  samlAttributeMap: ssoConnections.samlAttributeMap,
  domainToken: ssoConnections.domainToken,
  createdByUserId: ssoConnections.createdByUserId,
  lastEditorUserId: ssoConnections.lastEditorUserId,
  lastEditorApiKeyId: ssoConnections.lastEditorApiKeyId,
  lastEditorRoleId: ssoConnections.lastEditorRoleId,
  grantCeiling: ssoConnections.grantCeiling,
  grantCeilingPrivileged: ssoConnections.grantCeilingPrivileged,
  lastEditedAt: ssoConnections.lastEditedAt,
  createdAt: ssoConnections.createdAt,
  updatedAt: ssoConnections.updatedAt,
};

export const domainColumns = {
  id: ssoDomains.id,
  tenantId: ssoDomains.tenantId,
  connectionId: ssoDomains.connectionId,
  domain: ssoDomains.domain,
  verifiedAt: ssoDomains.verifiedAt,
  verifiedBy: ssoDomains.verifiedBy,
  createdAt: ssoDomains.createdAt,
};

export const identityColumns = {
  id: externalIdentities.id,
  tenantId: externalIdentities.tenantId,
  userId: externalIdentities.userId,
  connectionId: externalIdentities.connectionId,
  provider: externalIdentities.provider,
  issuer: externalIdentities.issuer,
  subject: externalIdentities.subject,
  email: externalIdentities.email,
  createdAt: externalIdentities.createdAt,
  lastLoginAt: externalIdentities.lastLoginAt,
};

/** The tenant's rows of each table, read and written with the columns above (platform/db/tenant-rows.ts). */
export const connectionRows = tenantRows(ssoConnections, connectionColumns);
export const domainRows = tenantRows(ssoDomains, domainColumns);
export const identityRows = tenantRows(externalIdentities, identityColumns);
