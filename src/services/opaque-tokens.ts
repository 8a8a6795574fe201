import { createHash, randomBytes } from 'node:crypto'

/** Prefixes tell the kinds apart at a glance (and in secret scanners): `gdt_` API token, `gdr_` refresh token. */
export type TokenPrefix = 'gdt_' | 'gdr_'

/** A new random token (256 bits) and the hash that is all Gudang stores of it. */
export function newOpaqueToken(prefix: TokenPrefix): { value: string, hash: string } {
  const value = prefix + randomBytes(32).toString('base64url')
  return { value, hash: hashOpaqueToken(value) }
}

/** SHA-256 suffices: the token is random, not a password, so there is nothing to guess. */
export function hashOpaqueToken(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
