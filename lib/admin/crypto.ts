/**
 * Small Web Crypto helpers for admin auth: base64url, HMAC-SHA256, SHA-256 and constant-time
 * comparison.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Encodes bytes as unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** `n` random bytes as base64url. */
export function randomId(n = 16): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

const keyCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    if (secret.length < 16) {
      throw new Error("Admin session secret is too short: use at least 32 random bytes.");
    }
    key = crypto.subtle.importKey(
      "raw",
      new Uint8Array(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

/** HMAC-SHA256 of `data` under `secret`, as base64url. */
export async function hmacBase64url(secret: Uint8Array, data: string): Promise<string> {
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(data));
  return base64url(new Uint8Array(sig));
}

/** SHA-256 of a UTF-8 string. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares two byte arrays in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Compares two strings in constant time by hashing both with SHA-256 first. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  return timingSafeEqual(ha, hb);
}

/**
 * A `verifyAdminToken` implementation for a fixed token (e.g. `ADMIN_TOKEN`): constant-time,
 * and always false when the expected token is missing or empty (the panel then stays locked).
 */
export function tokenVerifier(expected: string | undefined): (token: string) => Promise<boolean> {
  return async function verifyAdminToken(token: string): Promise<boolean> {
    const equal = await timingSafeEqualStrings(token, expected ?? "");
    return equal && !!expected;
  };
}
