/**
 * Masking secrets in the error Google writes into a 200 answer it relays: a stream that fails midway
 * ends with Google's error event (`data: {"error": {...}}`) or a bare JSON error object (no `data:`
 * framing, possibly pretty-printed over several lines), and its message may quote the key or parts of
 * the request ("Consumer 'api_key:…'", a token sent as a field). Everything before that passes through
 * as it comes: a line is held only while its start could still be an error's start (`data: {"e`), so
 * answer events are neither delayed nor scanned. From the error's first line on, the rest of the body
 * is masked line by line (a secret never spans lines).
 *
 * Source for the framing: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 *
 * @module
 */

/** What the start of a line says: Google's error starts here, an ordinary line, or not known yet. */
type LineStart = "error" | "plain" | "open";

const ERROR_NAME = '"error"';
/** Leading whitespace, an optional `data:` field name and an optional opening brace. */
const LINE_HEAD = /^\s*(data:\s*)?(\{\s*)?/;
/** Held text beyond this is masked and passed on even mid-line (Google's error bodies are a few KiB). */
const MAX_HELD_CHARS = 64 * 1024;

function lineStart(text: string): LineStart {
  const m = LINE_HEAD.exec(text)!;
  const rest = text.slice(m[0].length);
  if (rest.startsWith(ERROR_NAME)) return m[2] ? "error" : "plain";
  // A blank line (an event's end) or a bare `data:` line passes at once; a lone `{` waits for the next line.
  if (!rest) return m[2] || !text.endsWith("\n") ? "open" : "plain";
  if (!m[1] && !m[2] && "data:".startsWith(rest)) return "open";
  if (m[2] && ERROR_NAME.startsWith(rest)) return "open";
  return "plain";
}

/**
 * Masks secrets in the error at the end of a relayed text body (an SSE stream or JSON), fed as it
 * arrives: {@link push} returns what may be passed on now, {@link flush} the rest at the end.
 */
export class ErrorTextRedactor {
  readonly #redact: (text: string) => string;
  /** Text of the current line not passed on yet (its start is undecided, or the error's line). */
  #held = "";
  /** The current line is an ordinary one: pass it on up to its end. */
  #plain = false;
  /** Google's error started: everything from here on is masked. */
  #error = false;

  /** @param redact masks the secrets in one text (the gateway's `Redactor`). */
  constructor(redact: (text: string) => string) {
    this.#redact = redact;
  }

  /** The part of `text` (with what was held before) that can be passed on now. */
  push(text: string): string {
    let out = "";
    let i = 0;
    while (i < text.length) {
      const nl = text.indexOf("\n", i);
      const end = nl < 0 ? text.length : nl + 1;
      const piece = text.slice(i, end);
      i = end;
      if (this.#plain) {
        out += piece;
        this.#plain = nl < 0;
        continue;
      }
      this.#held += piece;
      if (this.#error) {
        if (nl >= 0 || this.#held.length > MAX_HELD_CHARS) out += this.flush();
        continue;
      }
      const start = lineStart(this.#held);
      if (start === "error") {
        this.#error = true;
        if (nl >= 0 || this.#held.length > MAX_HELD_CHARS) out += this.flush();
      } else if (start === "plain" || this.#held.length > MAX_HELD_CHARS) {
        out += this.#held;
        this.#held = "";
        this.#plain = nl < 0;
      }
      // "open" at a line's end (a blank line, a lone `{`): held until the next line decides.
    }
    return out;
  }

  /** What is still held, masked when it belongs to an error (call at the end of the body). */
  flush(): string {
    const held = this.#held;
    this.#held = "";
    return this.#error ? this.#redact(held) : held;
  }
}
