/**
 * Constant-time comparison for secrets: token digests, session signatures, CSRF tokens.
 *
 * @module
 */

/**
 * True when `a` and `b` are the same string. The time taken depends only on the lengths, never on
 * where the strings differ, so a caller cannot learn a secret one character at a time. Compare
 * values of a public, fixed length (hex digests, base64url HMACs): a length mismatch returns at once.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
