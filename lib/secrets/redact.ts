/**
 * Keeping secrets out of what the gateway shows: masked key forms for the panel and logs, masked
 * secret settings, and redaction of keys quoted in upstream messages ("Consumer 'api_key:AIza…' has
 * been suspended").
 *
 * @module
 */

/** A key shown safely: `AIza…k9Xw`. */
export function maskKey(key: string): string {
  return key.length <= 10 ? "…" : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/** Google API keys: `AIza` + 35 characters, and the newer Cloud shape `AQ.` + about 50 (Gemini and Vertex). */
const GOOGLE_KEYS = /AIza[0-9A-Za-z_-]{35}|AQ\.[0-9A-Za-z_-]{30,120}/g;

/** Replaces anything that looks like a Google API key in `text` with its masked form. */
export function redactKeys(text: string): string {
  return text.replace(GOOGLE_KEYS, (k) => maskKey(k));
}

/**
 * A secret setting's value shown safely: a URL keeps its scheme and host with any credentials
 * replaced by `***` (`socks5://***@host:1080`; path and query dropped), anything else shows only its
 * last four characters (`…x9Qk`).
 */
export function maskSecret(value: string): string {
  if (/^[a-z][\w+.-]*:\/\//i.test(value)) {
    try {
      const u = new URL(value);
      return `${u.protocol}//${u.username || u.password ? "***@" : ""}${u.host}`;
    } catch {
      // not a URL after all: mask it like any other secret
    }
  }
  return `…${value.slice(-4)}`;
}
