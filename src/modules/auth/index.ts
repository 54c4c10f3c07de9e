/**
 * The auth module: password sign-in, refresh rotation, logout, /auth/me, password change and self-registration
 * under /api/v1/auth. The MFA step of sign-in is the MFA module's (it registers ctx.mfa and its own routes).
 */
import type { AppModule } from '../../platform/module.js';
import { authErrors } from './errors.js';
import { registerAuthGdpr } from './gdpr.js';
import { authRoutes } from './routes.js';

// --- module registration ---
export const authModule: AppModule = {
  name: 'auth',
  errors: [authErrors],
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuthGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/auth', plugin: authRoutes(ctx) }],
};

// --- exports used by mfa, password-reset ---
export { type AuthMessage, authMessage } from './errors.js';
export { onPasswordChanged, type PasswordChangedHook } from './hooks.js';
export { clearLoginAttempts } from './lockout.js';
export {
  completeLogin,
  type LoginResponse,
  loginResponse,
  MFA_STEP_TOKEN,
  mfaRequiredResponse,
  mfaStepVia,
} from './login.js';
export { LoginResponse as LoginResponseSchema, TokenResponse } from './schemas.js';
