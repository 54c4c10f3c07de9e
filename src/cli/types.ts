/** What a CLI command group receives: the program to add commands to, and the app runner (see cli.ts). */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';

export type WithApp = <T>(fn: (app: FastifyInstance) => Promise<T>) => Promise<T>;
export type CliRegistration = (program: Command, withApp: WithApp) => void;
