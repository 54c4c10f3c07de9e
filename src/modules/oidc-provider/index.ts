/**
 * The OpenID Provider (API.md §22, docs/oidc-provider.md): each tenant is an OpenID Provider at
 * `PUBLIC_URL/oidc/{slug}`, built with oidc-provider on the tenant's client registry (the oidc-clients module),
 * users, roles and signing keys. Its sign-in and consent pages are the console's.
 */
import { writeAudit } from '../../platform/audit/writer.js';
import type { AppModule } from '../../platform/module.js';
import { onPasswordChanged } from '../auth/index.js';
import { oidcProviderErrors } from './errors.js';
import { registerOidcProviderGdpr } from './gdpr.js';
import { createProviderRegistry } from './registry.js';
import { deleteUserArtefacts, pruneExpiredArtefacts } from './repository.js';
import { oidcProviderRoutes } from './routes.js';

/** How often a replica prunes expired artefacts, and how many at most per run (the rest wait for the next). */
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 5000;
const timers = new WeakMap<object, NodeJS.Timeout>();

export const oidcProviderModule: AppModule = {
  name: 'oidc-provider',
  errors: [oidcProviderErrors],
  needs: ['mfa', 'users'],
  setup: (ctx) => {
    registerOidcProviderGdpr(ctx);
    // Deactivating, deleting or erasing a user ends their grants, refresh tokens and provider sessions at once
    // (rows in PostgreSQL: every replica sees it); a password change or reset, and ending all their sessions,
    // do too.
    ctx.hooks.userDeactivated.push(async (tx, tenantId, userId, reason, audit) => {
      const ended = await deleteUserArtefacts(tx, tenantId, userId);
      if (ended > 0)
        await writeAudit(tx, tenantId, audit, {
          eventType: 'oidc.grants_revoked',
          resourceType: 'user',
          resourceId: String(userId),
          metadata: { reason, artefacts: ended },
        });
    });
    onPasswordChanged(ctx, (tx, tenantId, userId) => deleteUserArtefacts(tx, tenantId, userId));
    // "Sign out everywhere" (or an admin ending all of a user's sessions) includes the applications.
    ctx.hooks.userSessionsEnded.push((tx, tenantId, userId) => deleteUserArtefacts(tx, tenantId, userId));
    const timer = setInterval(() => {
      ctx.database
        .withSystem((tx) => pruneExpiredArtefacts(tx, PRUNE_BATCH, new Date(ctx.clock.now())))
        .catch((err: unknown) => ctx.log.warn({ err }, 'pruning expired OIDC artefacts failed'));
    }, PRUNE_EVERY_MS);
    timer.unref();
    timers.set(ctx, timer);
  },
  stop: (ctx) => clearInterval(timers.get(ctx)),
  routes: (ctx) => [{ prefix: '/oidc', plugin: oidcProviderRoutes(ctx, createProviderRegistry(ctx)) }],
  guardedPrefixes: ['/oidc/'],
  // Tokens, codes and interaction details.
  noStorePrefixes: ['/oidc'],
};
