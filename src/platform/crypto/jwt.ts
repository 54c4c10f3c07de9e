/**
 * Access and short-lived purpose tokens (MFA step, enrolment) with jose. Only the configured algorithm is
 * accepted, so `none` and algorithm-confusion tokens are refused before any claim is read.
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.js';

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

export function createJwtService(
  config: Pick<Config, 'jwtSecret' | 'jwtAlgorithm' | 'jwtIssuer' | 'jwtAudience'>,
): JwtService {
  const key = new TextEncoder().encode(config.jwtSecret);
  const alg = config.jwtAlgorithm;
  const sign = (claims: Record<string, unknown>, sub: string, lifetime: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifetime)
      .sign(key);
  const verify = async (token: string) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [alg],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      throw new JwtError(err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid');
    }
  };
  return {
    signAccess: ({ sub, ...rest }, lifetime) => sign({ ...rest, type: 'access' }, sub, lifetime),
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
