// Responder passwords for HTTP basic authentication (RESPONDERS=user:scrypt$...).
//
// Format: `scrypt$<N>$<r>$<p>$<salt base64>$<key base64>` — the cost parameters travel with the hash, so raising
// them later only needs new hashes, never a code change. Made by `runbook-router hash-password`.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 bytes = 32 MiB and ~50–100 ms per hash: slow for an attacker with a stolen config, fine for a login. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a config may ask for, so a typo cannot make every request allocate gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

export interface PasswordHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

function scrypt(password: string | Buffer, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))));
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (password === '') throw new Error('the password is empty');
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password.normalize('NFC'), salt, KEY_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `scrypt$N$r$p$salt$key`; throws with a message naming what is wrong (never echoing the hash). */
export function parsePasswordHash(encoded: string): PasswordHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error('expected scrypt$N$r$p$salt$key (6 fields separated by $)');
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const int = (text: string, name: string, max: number) => {
    if (!/^\d+$/.test(text)) throw new Error(`${name} must be a whole number`);
    const value = Number(text);
    if (value < 1 || value > max) throw new Error(`${name} must be between 1 and ${max}`);
    return value;
  };
  const N = int(n, 'N', MAX_N);
  if (N < 2 || (N & (N - 1)) !== 0) throw new Error('N must be a power of two');
  const parsed = { N, r: int(r, 'r', MAX_R), p: int(p, 'p', MAX_P) };
  if (!B64.test(salt) || !B64.test(key)) throw new Error('salt and key must be base64');
  const saltBytes = Buffer.from(salt, 'base64');
  const keyBytes = Buffer.from(key, 'base64');
  if (saltBytes.length < 8) throw new Error('salt must be at least 8 bytes');
  if (keyBytes.length < 16) throw new Error('key must be at least 16 bytes');
  return { ...parsed, salt: saltBytes, key: keyBytes };
}

/** Constant-time comparison of the derived key; the work done does not depend on where the password differs. */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const derived = await scrypt(password.normalize('NFC'), hash.salt, hash.key.length, hash);
  return timingSafeEqual(derived, hash.key);
}
