/**
 * Access and short-lived purpose tokens (MFA step, enrolment) with jose. Only the configured algorithm is
 * accepted, so `none` and algorithm-confusion tokens are refused before any claim is read.
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.js';
import { type Clock, systemClock } from '../clock.js';

export interface AccessClaims {
  sub: string;
  tenant_id: number;
  type: 'access';
  session_id: string;
  email: string;
  jti: string;
  iat: number;
  exp: number;
  /** Set while the tenant or a role requires MFA and the user has not enrolled yet. */
  mfa_enrolment?: boolean;
}

export type PurposeClaims = Record<string, unknown> & {
  type: string;
  sub: string;
  tenant_id: number;
  jti: string;
  exp: number;
};

export class JwtError extends Error {
  constructor(public readonly reason: 'expired' | 'invalid') {
    super(reason);
  }
}

export interface JwtService {
  signAccess(
    claims: Omit<AccessClaims, 'jti' | 'iat' | 'exp' | 'type'>,
    lifetimeSeconds: number,
  ): Promise<string>;
  verifyAccess(token: string): Promise<AccessClaims>;
  signPurpose(
    type: string,
    claims: Record<string, unknown> & { sub: string; tenant_id: number },
    lifetimeSeconds: number,
  ): Promise<string>;
  verifyPurpose(token: string, type: string): Promise<PurposeClaims>;
}

/**
 * Issue and verification read the same clock (the app's), so a test that moves it sees tokens expire. Access
 * tokens never live longer than ACCESS_TOKEN_LIFETIME, whatever a caller asks for: the session revocation flag
 * is sized on that ceiling (sessions/service.ts revocationTtlSeconds), so a longer token would outlive it.
 */
export function createJwtService(
  config: Pick<Config, 'jwtSecret' | 'jwtAlgorithm' | 'jwtIssuer' | 'jwtAudience' | 'accessTokenLifetime'>,
  clock: Clock = systemClock,
): JwtService {
  const key = new TextEncoder().encode(config.jwtSecret);
  const alg = config.jwtAlgorithm;
  const sign = (claims: Record<string, unknown>, sub: string, lifetime: number) => {
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + lifetime)
      .sign(key);
  };
  const verify = async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [alg],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        currentDate: new Date(clock.now()),
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      throw new JwtError(err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid');
    }
  };
  return {
    signAccess: ({ sub, ...rest }, lifetime) =>
      sign({ ...rest, type: 'access' }, sub, Math.min(lifetime, config.accessTokenLifetime)),
    async verifyAccess(token) {
      const p = await verify(token);
      if (p.type !== 'access' || typeof p.tenant_id !== 'number' || typeof p.session_id !== 'string') {
        throw new JwtError('invalid');
      }
      return p as unknown as AccessClaims;
    },
    signPurpose: (type, { sub, ...rest }, lifetime) => sign({ ...rest, type }, sub, lifetime),
    async verifyPurpose(token, type) {
      const p = await verify(token);
      if (p.type !== type || typeof p.tenant_id !== 'number') throw new JwtError('invalid');
      return p as PurposeClaims;
    },
  };
}
