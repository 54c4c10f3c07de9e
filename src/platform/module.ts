/**
 * What a feature module hands the composition root. A module contributes setup (filling the context's extension
 * points: authenticators, permission resolver, hooks), route plugins mounted under their prefixes and, if it has
 * operator commands, a CLI command group. It lives in the platform so a module's own index.ts can declare its
 * `<m>Module` without importing the module list.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import type { ErrorCatalogue } from './http/errors.js';

/** Runs `fn` with an app built from the environment (the CLI's composition root), then closes it. */
export type WithApp = <T>(fn: (app: FastifyInstance) => Promise<T>) => Promise<T>;
/** Adds a group of commands to the `massacorp` program. */
export type CliRegistration = (program: Command, withApp: WithApp) => void;

export interface AppModule {
  name: string;
  setup?: (ctx: AppContext) => void | Promise<void>;
  routes: (ctx: AppContext) => { prefix: string; plugin: FastifyPluginAsyncTypebox }[];
  cli?: CliRegistration;
  /**
   * The module's error catalogues (`defineErrors`, platform/http/errors.ts): every code it throws that the
   * platform's catalogue does not hold. buildApp registers them; a code declared twice fails the boot.
   */
  errors: readonly ErrorCatalogue<string>[];
}
