/** Extra CLI command groups contributed by modules (keys, audit, wg). Each adds its commands to the program. */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { registerAuditCommands } from './audit.js';
import { registerKeys } from './keys.js';
import { registerWg } from './wg.js';

export type WithApp = <T>(fn: (app: FastifyInstance) => Promise<T>) => Promise<T>;
export type CliRegistration = (program: Command, withApp: WithApp) => void;

export const cliCommands: CliRegistration[] = [];
cliCommands.push(registerWg);
cliCommands.push(registerAuditCommands);
cliCommands.push(registerKeys);
