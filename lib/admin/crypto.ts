/**
 * Small Web Crypto helpers for admin auth: base64url, random ids and HMAC-SHA256. Signatures are
 * compared with `timingSafeEqual` from `lib/secrets/timing_safe_equal.ts`.
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
