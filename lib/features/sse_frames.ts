/**
 * Incremental SSE frame splitting (Gemini uses `\r\n\r\n`; `\n\n` and `\r\r` are accepted too) and
 * a helper to read the JSON payload of a `data:` frame.
 *
 * @module
 */

/** One complete SSE frame: its text without the separator, and the separator that ended it. */
export interface SseFrame {
  text: string;
  separator: string;
}

const SEPARATOR = /\r\n\r\n|\n\n|\r\r/;

/** Collects decoded text and hands out complete frames. */
export class SseFrameSplitter {
  #buffer = "";
  #decoder = new TextDecoder();

  /** Adds bytes; returns the frames completed by them. */
  push(bytes: Uint8Array): SseFrame[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    const frames: SseFrame[] = [];
    for (let m = SEPARATOR.exec(this.#buffer); m; m = SEPARATOR.exec(this.#buffer)) {
      frames.push({ text: this.#buffer.slice(0, m.index), separator: m[0] });
      this.#buffer = this.#buffer.slice(m.index + m[0].length);
    }
    return frames;
  }

  /** Whatever is left at the end of the stream (an unterminated frame), or "". */
  rest(): string {
    const r = this.#buffer + this.#decoder.decode();
    this.#buffer = "";
    return r;
  }
}

/** The parsed JSON object of a frame made only of `data:` lines, or null for anything else. */
export function frameJson(text: string): Record<string, unknown> | null {
  const lines = text.split(/\r\n|\n|\r/);
  if (!lines.length || !lines.every((l) => l.startsWith("data:"))) return null;
  try {
    const v = JSON.parse(lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n"));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
