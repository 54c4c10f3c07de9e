/** Extra CLI command groups contributed by modules (keys, audit, wg). Each adds its commands to the program. */
import { registerAuditCommands } from './audit.js';
import { registerKeys } from './keys.js';
import type { CliRegistration } from './types.js';
import { registerWg } from './wg.js';

export type { CliRegistration, WithApp } from './types.js';

export const cliCommands: CliRegistration[] = [];
cliCommands.push(registerWg);
cliCommands.push(registerAuditCommands);
cliCommands.push(registerKeys);
