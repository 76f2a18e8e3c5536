/**
 * Base64 helpers (standard and URL-safe) that work on large buffers without stack overflows.
 *
 * @module
 */

/** Encodes bytes as standard base64 (with padding). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** Decodes standard or URL-safe base64 (padding optional). Throws on invalid input. */
export function base64ToBytes(b64: string): Uint8Array {
  let s = b64.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  const binary = atob(s);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Encodes numbers as little-endian float32, base64 (OpenAI's `encoding_format: "base64"`). */
export function floatsToBase64(values: readonly number[]): string {
  const buf = new ArrayBuffer(values.length * 4);
  const view = new DataView(buf);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytesToBase64(new Uint8Array(buf));
}
