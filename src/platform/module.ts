/**
 * What a feature module hands the composition root. A module declares what it provides to the platform and to
 * other modules (`provides`: one factory per provider name, see Providers in context.ts) and what it needs from
 * them (`needs`); app.ts builds the providers in need order and refuses to boot on a missing or cyclic need
 * (module-order.ts). It then runs each module's setup (subscribing to hooks), in list order, and mounts its route
 * plugins under their prefixes; a module with operator commands adds a CLI command group. What the platform must
 * know of a module's URLs (no-store paths, paths open during MFA enrolment) and secrets (log redaction) the
 * module declares here too: the platform names no module. It lives in the platform so a module's own index.ts
 * can declare its `<m>Module` without importing the module list.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { AppContext, CredentialScheme, ProviderName, Providers } from './context.js';
import type { ErrorCatalogue } from './http/errors.js';

/** Runs `fn` with an app built from the environment (the CLI's composition root), then closes it. */
export type WithApp = <T>(fn: (app: FastifyInstance) => Promise<T>) => Promise<T>;
/** Adds a group of commands to the `massacorp` program. */
export type CliRegistration = (program: Command, withApp: WithApp) => void;

/**
 * One factory per provided name. It runs once at boot, after the factories of every name the module needs, and
 * may keep what it reads of `ctx` (a provider built before it); what it returns becomes `ctx[name]`.
 */
export type ProviderFactories = { [K in ProviderName]?: (ctx: AppContext) => NonNullable<Providers[K]> };

export interface AppModule {
  name: string;
  /** Provider names this module's services read from the context (checked at boot: some module provides each). */
  needs?: readonly ProviderName[];
  provides?: ProviderFactories;
  /**
   * A credential the request guard accepts besides access tokens (API keys, machine tokens): built once every
   * provider exists, in module list order, into ctx.credentials.
   */
  credentialScheme?: (ctx: AppContext) => CredentialScheme;
  /** Subscribes to hooks (ctx.hooks); runs once every provider is built, in module list order. */
  setup?: (ctx: AppContext) => void | Promise<void>;
  /** Stops what setup started (timers): runs when the app closes, in reverse module order. */
  stop?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
  /** URL prefixes outside /api/v1 whose routes must declare their access too (the app refuses to boot otherwise). */
  guardedPrefixes?: readonly string[];
  /** URL prefixes whose responses carry `Cache-Control: no-store` (they answer tokens, secrets or keys). */
  noStorePrefixes?: readonly string[];
  /** URL prefixes a token limited to MFA enrolment still opens (everything else answers 403 MFA_REQUIRED). */
  mfaEnrolmentPrefixes?: readonly string[];
  /** Shapes of this module's secrets, replaced in every log line (log-redaction.ts); `g` flag required. */
  secretPatterns?: readonly { pattern: RegExp; replacement: string }[];
  cli?: CliRegistration;
  /**
   * The module's error catalogues (`defineErrors`, platform/http/errors.ts): every code it throws that the
   * platform's catalogue does not hold. buildApp registers them; a code declared twice fails the boot.
   */
  errors: readonly ErrorCatalogue<string>[];
}
