/**
 * Keeping secrets out of what the gateway shows: masked key forms for the panel and logs, masked
 * secret settings, and redaction of secrets quoted in upstream messages ("Consumer 'api_key:AIza…'
 * has been suspended", `Unknown name "<a token sent as a field>"`). {@link Redactor} knows the
 * actual secrets (every key in the pool whatever its shape, the client tokens, the admin token);
 * {@link redactKeys} knows only their shapes.
 *
 * @module
 */

/** A key shown safely: `AIza…k9Xw`. */
export function maskKey(key: string): string {
  return key.length <= 10 ? "…" : `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/**
 * Shapes of secrets recognised without knowing them: Google API keys (`AIza` + 35, and the newer Cloud
 * shape `AQ.` + about 50 that both the Gemini API and Vertex AI issue), the gateway's named client tokens
 * (`gwt_` + 32 base62) and generated admin tokens (`gw-admin-` + 36 hex).
 */
const SECRET_SHAPES =
  /AIza[0-9A-Za-z_-]{35}|AQ\.[0-9A-Za-z_-]{30,120}|gwt_[0-9A-Za-z]{32}|gw-admin-[0-9a-f]{36}/g;

/** Replaces anything shaped like a Google API key or a gateway token in `text` with its masked form. */
export function redactKeys(text: string): string {
  return text.replace(SECRET_SHAPES, (k) => maskKey(k));
}

/** Secret values from one place (the pool's keys, the client tokens), re-read when `version` changes. */
export interface SecretSource {
  /** Anything that changes (by identity) whenever the values do: a counter, the settings object. */
  version(): unknown;
  values(): Iterable<string>;
}

/** Secrets shorter than this are not searched for (they would match ordinary words). */
const MIN_SECRET_LENGTH = 8;

interface SecretIndex {
  secrets: Set<string>;
  /** Distinct secret lengths, longest first. */
  lengths: number[];
  /** Characters that occur in some secret; any other character ends a candidate run. */
  alphabet: Set<string>;
  /** A regex matching runs of those characters at least `MIN_SECRET_LENGTH` long. */
  runs: RegExp | null;
}

function escapeClass(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}

function buildIndex(values: Iterable<string>): SecretIndex {
  const secrets = new Set<string>();
  for (const v of values) if (v.length >= MIN_SECRET_LENGTH) secrets.add(v);
  const alphabet = new Set<string>();
  for (const s of secrets) for (const ch of s) alphabet.add(ch);
  const lengths = [...new Set([...secrets].map((s) => s.length))].sort((a, b) => b - a);
  const cls = [...alphabet].map(escapeClass).join("");
  const runs = secrets.size ? new RegExp(`[${cls}]{${MIN_SECRET_LENGTH},}`, "gu") : null;
  return { secrets, lengths, alphabet, runs };
}

/** Masks every known secret inside one run of secret characters. */
function redactRun(run: string, index: SecretIndex): string {
  let out = "";
  let i = 0;
  let plainFrom = 0;
  outer: while (i < run.length) {
    for (const len of index.lengths) {
      if (i + len > run.length) continue;
      const candidate = run.slice(i, i + len);
      if (index.secrets.has(candidate)) {
        out += run.slice(plainFrom, i) + maskKey(candidate);
        i += len;
        plainFrom = i;
        continue outer;
      }
    }
    i++;
  }
  return out + run.slice(plainFrom);
}

/**
 * Masks secrets the gateway holds wherever they appear in a text: each pool key, client token and
 * admin token, whatever its shape (as `maskKey` shows it), plus anything shaped like one
 * ({@link redactKeys}). The sources are re-read only when their version changes; a text is scanned once
 * per distinct secret length, so it stays cheap with 10,000 keys.
 */
export class Redactor {
  #sources: SecretSource[];
  #versions: unknown[] = [];
  #index: SecretIndex = buildIndex([]);

  constructor(sources: SecretSource[]) {
    this.#sources = sources;
  }

  /** `text` with every known secret masked. */
  readonly redact = (text: string): string => {
    const index = this.#current();
    const literal = index.runs
      ? text.replace(index.runs, (run) => run.length < index.lengths.at(-1)! ? run : redactRun(run, index))
      : text;
    return redactKeys(literal);
  };

  #current(): SecretIndex {
    const versions = this.#sources.map((s) => s.version());
    if (versions.length !== this.#versions.length || versions.some((v, i) => v !== this.#versions[i])) {
      this.#versions = versions;
      this.#index = buildIndex(this.#sources.flatMap((s) => [...s.values()]));
    }
    return this.#index;
  }
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
