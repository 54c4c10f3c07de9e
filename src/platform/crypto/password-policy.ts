/** The tenant's password policy (seed: 8+ chars, upper, lower, digit, special) plus common-list and email checks. */
import { platformErrors } from '../http/errors.js';
import { isCommonPassword } from './common-passwords.js';

/**
 * The policy fields this check reads. The tenant setting that holds them is declared in the tenants module
 * (its TypeBox schema); platform code only needs their shape, so it never imports a module.
 */
export interface PasswordPolicy {
  min_length: number;
  /** How many of the four classes (upper, lower, digit, special) a password must contain. */
  require_classes: number;
  check_common: boolean;
}

export type WeakReason =
  | 'too_short'
  | 'too_long'
  | 'missing_uppercase'
  | 'missing_lowercase'
  | 'missing_digit'
  | 'missing_special'
  | 'too_common'
  | 'contains_email';

/** Returns why the password is refused; empty when it passes. */
export function validatePassword(
  password: string,
  email: string | null,
  policy: PasswordPolicy,
  minLength?: number,
): WeakReason[] {
  const reasons: WeakReason[] = [];
  if ([...password].length < Math.max(policy.min_length, minLength ?? 0)) reasons.push('too_short');
  if (password.length > 128) reasons.push('too_long');
  const classes: [RegExp, WeakReason][] = [
    [/\p{Lu}/u, 'missing_uppercase'],
    [/\p{Ll}/u, 'missing_lowercase'],
    [/\p{Nd}/u, 'missing_digit'],
    [/[^\p{L}\p{Nd}]/u, 'missing_special'],
  ];
  const missing = classes.filter(([re]) => !re.test(password)).map(([, r]) => r);
  // require_classes = 4 means all four; fewer means "at least N of the four".
  if (4 - missing.length < policy.require_classes) reasons.push(...missing);
  if (policy.check_common && isCommonPassword(password)) reasons.push('too_common');
  if (email) {
    const local = email.split('@')[0]?.toLowerCase() ?? '';
    const lower = password.toLowerCase();
    if ((local.length >= 3 && lower.includes(local)) || lower.includes(email.toLowerCase()))
      reasons.push('contains_email');
  }
  return reasons;
}

/** 422 PASSWORD_TOO_WEAK with the reasons, unless the password passes the policy. */
export function assertStrongPassword(
  password: string,
  email: string | null,
  policy: PasswordPolicy,
  minLength?: number,
): void {
  const reasons = validatePassword(password, email, policy, minLength);
  if (reasons.length > 0) throw platformErrors.error('PASSWORD_TOO_WEAK', { reasons });
}
