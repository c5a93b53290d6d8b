import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import type { Db } from '../db/database.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

const ALGORITHM = 'ES256';
const AUDIENCE = 'elevate';
export const TOKEN_LIFETIME_SECONDS = 3600;
/** Tokens whose signature was checked, kept for reuse: an hour's worth of active clients. */
const VERIFIED_CACHE_SIZE = 10_000;

export interface TokenClaims {
  oid: string;
  upn: string;
  amr: string[];
}

/**
 * Issues and verifies access tokens: JWTs signed with an ES256 key pair that is generated on the
 * first start and kept in the database, so that every instance and every restart agrees on it.
 */
export class TokenService {
  private readonly verified = new Map<string, { claims: TokenClaims; expiresAtMs: number }>();

  private constructor(
    private readonly clock: Clock,
    private readonly issuer: string,
    private readonly kid: string,
    private readonly privateKey: SigningKey,
    private readonly publicKey: SigningKey,
  ) {}

  static async load(db: Db, clock: Clock, issuer: string): Promise<TokenService> {
    let row = await db.kysely
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at', 'asc')
      .executeTakeFirst();

    if (!row) {
      const pair = await generateKeyPair(ALGORITHM, { extractable: true });
      const fresh = {
        kid: newId(),
        private_jwk: JSON.stringify(await exportJWK(pair.privateKey)),
        public_jwk: JSON.stringify(await exportJWK(pair.publicKey)),
        created_at: clock.now().toISOString(),
      };
      // Two instances starting at once may both generate a key; the oldest one wins for both.
      await db.kysely.insertInto('signing_keys').values(fresh).execute();
      row = await db.kysely
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('kid', 'asc')
        .executeTakeFirstOrThrow();
    }

    const privateKey = await importJWK(JSON.parse(row.private_jwk) as JWK, ALGORITHM);
    const publicKey = await importJWK(JSON.parse(row.public_jwk) as JWK, ALGORITHM);
    return new TokenService(clock, issuer, row.kid, privateKey, publicKey);
  }

  async issue(claims: TokenClaims): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({ oid: claims.oid, upn: claims.upn, amr: claims.amr, auth_time: now })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setSubject(claims.oid)
      .setJti(newId())
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .sign(this.privateKey);
  }

  /** The token's claims, or null for any token that is not ours, not intact or not current. */
  async verify(token: string): Promise<TokenClaims | null> {
    const now = this.clock.now();
    const known = this.verified.get(token);
    if (known) {
      if (now.getTime() < known.expiresAtMs) return known.claims;
      this.verified.delete(token);
      return null;
    }

    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        audience: AUDIENCE,
        currentDate: now,
      });
      const { oid, upn, amr, exp } = payload;
      if (typeof oid !== 'string' || typeof upn !== 'string' || !Array.isArray(amr)) return null;
      const claims = { oid, upn, amr: amr.filter((m): m is string => typeof m === 'string') };
      if (typeof exp === 'number') this.remember(token, claims, exp * 1000);
      return claims;
    } catch {
      return null;
    }
  }

  /**
   * Checking an ES256 signature costs more than the rest of a typical API call, and a client sends
   * the same token for an hour. A token that passed is kept until it expires, keyed by its whole
   * text, so that a changed byte is checked afresh; only the expiry depends on time, and it is
   * compared again on every use. The oldest entries go first once the cache is full.
   */
  private remember(token: string, claims: TokenClaims, expiresAtMs: number): void {
    this.verified.set(token, { claims, expiresAtMs });
    if (this.verified.size > VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
  }
}
