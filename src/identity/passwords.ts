import { hash, verify } from '@node-rs/argon2';

// The library's Algorithm enum is a const enum, which isolated modules cannot read; 2 is argon2id.
const ARGON2ID = 2;

// argon2id with the library's defaults (19 MiB, two passes), the parameters OWASP recommends.
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  // A user without a password still costs one hash, so that timing does not tell who exists.
  if (!stored) {
    await hash(password, { algorithm: ARGON2ID });
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Rejects passwords that are too weak to protect an administrator. */
export function passwordProblem(password: string): string | null {
  if (password.length < 12) return 'must be at least 12 characters long';
  if (password.length > 256) return 'must be at most 256 characters long';
  return null;
}
