/**
 * CLI command groups of the platform (audit trail, encryption keys). Modules add theirs through their AppModule
 * (`cli`, e.g. `massacorp wg`); src/cli.ts registers both.
 */
import type { CliRegistration } from '../platform/module.js';
import { registerAuditCommands } from './audit.js';
import { registerKeys } from './keys.js';

export type { CliRegistration, WithApp } from '../platform/module.js';

export const cliCommands: CliRegistration[] = [registerAuditCommands, registerKeys];
