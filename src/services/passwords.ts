import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

/**
 * Passwords are hashed with scrypt (memory-hard, in Node's own crypto: no native addon to
 * build). The parameters travel inside the stored hash, so raising them later keeps old
 * hashes verifiable. N = 2^16 with r = 8 takes 64 MiB and about a tenth of a second; libuv's
 * four worker threads bound how many run at once.
 */
const COST = 2 ** 16
const BLOCK_SIZE = 8
const PARALLELIZATION = 1
const KEY_LENGTH = 32

// promisify() types only scrypt's overload without options.
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
) => Promise<Buffer>

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return scryptAsync(password.normalize('NFC'), salt, length, options)
}

function memoryFor(N: number, r: number): number {
  return 128 * N * r * 2
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const options = { N: COST, r: BLOCK_SIZE, p: PARALLELIZATION, maxmem: memoryFor(COST, BLOCK_SIZE) }
  const key = await derive(password, salt, KEY_LENGTH, options)
  return ['scrypt', COST, BLOCK_SIZE, PARALLELIZATION, salt.toString('base64'), key.toString('base64')].join('$')
}

/** True when the password matches the stored hash; compares in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !key) return false
  const expected = Buffer.from(key, 'base64')
  const actual = await derive(password, Buffer.from(String(salt), 'base64'), expected.length, {
    N: Number(N),
    r: Number(r),
    p: Number(p),
    maxmem: memoryFor(Number(N), Number(r)),
  })
  return timingSafeEqual(actual, expected)
}

/**
 * A hash to verify against when the email is unknown or the account has no password, so
 * that such a login costs the same time as a wrong password.
 */
let dummy: Promise<string> | undefined
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('base64'))
  return dummy
}
