/** The users module: user accounts of a tenant under /api/v1/users. */
import type { AppModule } from '../../platform/module.js';
import { userRoutes } from './routes.js';
import type { UserRow } from './tables.js';

// --- module registration ---
export const usersModule: AppModule = {
  name: 'users',
  routes: (ctx) => [{ prefix: '/api/v1/users', plugin: userRoutes(ctx) }],
};

/** ctx.mfa.inlineLogin and other context hooks carry the user row (see UserRecord). */
declare module '../../platform/context.js' {
  interface UserRecord extends UserRow {}
}
