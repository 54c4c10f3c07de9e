/**
 * Hooks that modules above auth register to act inside auth's transactions, so auth never imports them. The
 * password-reset module voids pending reset links when a password changes (a link mailed before the change
 * must not undo it). Kept per app context (two apps in one test process must not share them).
 */

import type { AppContext, SignInVia, TenantRecord, UserRecord } from '../../platform/context.js';
import type { Tx } from '../../platform/db/client.js';
import type { AuthDeps } from './deps.js';

/** Runs in the transaction that stores the new password; returns how many things it ended (for the audit). */
export type PasswordChangedHook = (tx: Tx, tenantId: number, userId: number) => Promise<number>;

const passwordChanged = new WeakMap<AuthDeps, PasswordChangedHook[]>();

export function onPasswordChanged(ctx: AppContext, hook: PasswordChangedHook): void {
  const list = passwordChanged.get(ctx) ?? [];
  list.push(hook);
  passwordChanged.set(ctx, list);
}

export async function runPasswordChanged(ctx: AuthDeps, tx: Tx, tenantId: number, userId: number) {
  let total = 0;
  // Sequential: one transaction is one connection.
  for (const hook of passwordChanged.get(ctx) ?? []) total += await hook(tx, tenantId, userId);
  return total;
}

/**
 * The first refusal of the passwordSignIn hooks (an SSO-required domain) for this address, or null. Login and
 * self-registration both ask it before they look at the password or the account.
 */
export async function passwordSignInRefusal(ctx: AuthDeps, tx: Tx, tenant: TenantRecord, email: string) {
  // Sequential: one transaction is one connection.
  for (const hook of ctx.hooks.passwordSignIn) {
    const refusal = await hook(tx, tenant, email);
    if (refusal) return refusal;
  }
  return null;
}

/**
 * The first refusal of the signIn hooks for this user signing in (or refreshing a session opened) this way, or
 * null: completeLogin asks it before it opens any session, refresh before it rotates one.
 */
export async function signInRefusal(
  ctx: AuthDeps,
  tx: Tx,
  tenant: TenantRecord,
  user: UserRecord,
  via: SignInVia,
) {
  // Sequential: one transaction is one connection.
  for (const hook of ctx.hooks.signIn) {
    const refusal = await hook(tx, tenant, user, via);
    if (refusal) return refusal;
  }
  return null;
}
