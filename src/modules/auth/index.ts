/**
 * The auth module: password sign-in, refresh rotation, logout, /auth/me, password change and self-registration
 * under /api/v1/auth. The MFA step of sign-in is the MFA module's (it registers ctx.mfa and its own routes).
 */
import type { AppModule } from '../../platform/module.js';
import { authErrors } from './errors.js';
import { registerAuthGdpr } from './gdpr.js';
import type { LoginResponse } from './login.js';
import { authRoutes } from './routes.js';

// --- module registration ---
export const authModule: AppModule = {
  name: 'auth',
  errors: [authErrors],
  // Sign-in reads the user's MFA status and hands `mfa_code` to the one-step MFA login.
  needs: ['mfa'],
  setup: (ctx) => {
    // --- gdpr hooks ---
    registerAuthGdpr(ctx);
  },
  routes: (ctx) => [{ prefix: '/api/v1/auth', plugin: authRoutes(ctx) }],
  noStorePrefixes: ['/api/v1/auth'],
  // A user whom the tenant requires to enrol in MFA still signs in, refreshes, reads /auth/me and signs out.
  mfaEnrolmentPrefixes: ['/api/v1/auth'],
};

/** MFA's one-step login answers auth's LoginResponse (ctx.mfa.inlineLogin), typed end to end. */
declare module '../../platform/context.js' {
  interface SignInAnswer extends LoginResponse {}
}

// --- exports used by mfa, password-reset ---
export type { AuthDeps } from './deps.js';
export { authMessage } from './errors.js';
export { onPasswordChanged } from './hooks.js';
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
// --- used by the CLI (massacorp admin reset-password) ---
export { resetPasswordAsOperator } from './service.js';
