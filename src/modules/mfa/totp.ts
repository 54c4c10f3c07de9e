/** TOTP (RFC 6238) with otpauth: SHA-1, 6 digits, 30 s steps, ±1 step of clock drift, issuer MassaCorp. */
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';

export const TOTP_ISSUER = 'MassaCorp';
export const TOTP_PERIOD = 30;
export const TOTP_WINDOW = 1;

function totpFor(secretBase32: string, label = 'user') {
  return new OTPAuth.TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

/** 160 random bits (RFC 4226's recommendation) = 32 base32 characters. */
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function provisioningUri(secretBase32: string, accountEmail: string): string {
  return totpFor(secretBase32, accountEmail).toString();
}

/** The QR code of the provisioning URI, as base64 PNG (no data: prefix). */
export async function qrCodeBase64(uri: string): Promise<string> {
  const dataUrl = await QRCode.toDataURL(uri, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2 });
  return dataUrl.slice(dataUrl.indexOf(',') + 1);
}

/** The time step the code belongs to (within ±1 step of now), or null when it matches none. */
export function matchTotpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return null;
  return Math.floor(now / 1000 / TOTP_PERIOD) + delta;
}

/** Seconds until a step can no longer validate (the replay guard's lifetime must cover it). */
export function secondsUntilStepExpires(step: number, now = Date.now()): number {
  const lastValidUntil = (step + TOTP_WINDOW + 1) * TOTP_PERIOD * 1000;
  return Math.max(1, Math.ceil((lastValidUntil - now) / 1000));
}

/** Codes are typed as "123 456" or "123-456" too. */
export function normaliseTotp(code: string): string {
  return code.replace(/[\s-]/g, '');
}
