/**
 * Keeping secrets out of what the gateway shows: masked key forms for the panel and logs, and
 * redaction of keys quoted in upstream messages ("Consumer 'api_key:AIza…' has been suspended").
 *
 * @module
 */

/** A key shown safely: `AIza…k9Xw`. */
export function maskKey(key: string): string {
  return key.length <= 10 ? "…" : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/** Replaces anything that looks like a Google API key in `text` with its masked form. */
export function redactKeys(text: string): string {
  return text.replace(/AIza[0-9A-Za-z_-]{35}/g, (k) => maskKey(k));
}
