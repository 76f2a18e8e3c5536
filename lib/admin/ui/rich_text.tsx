/**
 * A translated message with elements in it: `{name}` placeholders are replaced by the given nodes
 * (a count in `<strong>`, a `<code>` variable name), so a sentence keeps its word order in every
 * language.
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** The message `text` with each `{name}` replaced by `parts[name]`. */
export function rich(text: string, parts: Record<string, ComponentChildren>): ComponentChildren[] {
  return text.split(/(\{\w+\})/).filter(Boolean).map((piece) => {
    const name = /^\{(\w+)\}$/.exec(piece)?.[1];
    return name !== undefined && name in parts ? parts[name] : piece;
  });
}
