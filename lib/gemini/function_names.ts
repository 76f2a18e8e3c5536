/**
 * Gemini's rule for function names, and the short aliases the dialects send for client names that
 * break it. Gemini refuses a `FunctionDeclaration` whose name does not start with a letter or an
 * underscore, holds other characters than `a-z A-Z 0-9 _ . : -`, or is longer than 64 characters
 * ("Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or
 * contain underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64."). OpenAI
 * allows names that start with a digit or a dash, Anthropic names of up to 128 characters (Claude
 * Code's MCP tools, `mcp__<server>__<tool>`, run long), and the Responses route joins a namespace and a
 * function name; such names go upstream under an alias and come back under the client's name.
 *
 * The alias of a name depends on that name alone (its legal characters, cut in the middle, and 8 hex
 * digits of its FNV-1a hash), so the same tool has the same alias in every turn of a conversation and
 * in the history the client sends back.
 *
 * Source: https://ai.google.dev/api/caching#FunctionDeclaration, google-gemini/gemini-cli#2966.
 *
 * @module
 */

import { badRequest } from "../http/errors.ts";

/** Gemini's rule for `FunctionDeclaration.name` (and so for `functionCall.name`). */
export const GEMINI_FUNCTION_NAME: RegExp = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/** The longest function name Gemini accepts. */
const MAX_LENGTH = 64;

/** 32-bit FNV-1a of a string's UTF-16 code units, as 8 hex digits. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * The name Gemini gets for a client's function name: the name itself when Gemini accepts it, else an
 * alias that does (`_` for every character Gemini refuses, `_` in front of a name that does not start
 * with a letter or an underscore, the middle cut out of a long name, and a hash of the whole name at the
 * end, so two names practically never share an alias).
 */
export function geminiFunctionName(name: string): string {
  if (GEMINI_FUNCTION_NAME.test(name)) return name;
  const hash = fnv1a(name);
  let legal = name.replace(/[^A-Za-z0-9_.:-]/g, "_");
  if (!/^[A-Za-z_]/.test(legal)) legal = `_${legal}`;
  const room = MAX_LENGTH - hash.length - 1;
  if (legal.length > room) {
    const head = Math.ceil((room - 1) / 2);
    legal = `${legal.slice(0, head)}_${legal.slice(legal.length - (room - 1 - head))}`;
  }
  return `${legal}_${hash}`;
}

/**
 * The function names of one request, both ways: {@link FunctionNames.toGemini} for every name that
 * goes upstream (declarations, `allowedFunctionNames`, calls and responses in the history), then
 * {@link FunctionNames.toClient} for the calls in the answer.
 */
export class FunctionNames {
  /** Gemini name -> the client's name, for every name sent. */
  readonly #sent = new Map<string, string>();

  /**
   * The name Gemini gets for `name` ({@link geminiFunctionName}); remembers the way back.
   *
   * @throws {GatewayError} 400 when two of the request's names would reach Gemini as one.
   */
  toGemini(name: string): string {
    const alias = geminiFunctionName(name);
    const earlier = this.#sent.get(alias);
    if (earlier !== undefined && earlier !== name) {
      throw badRequest(
        "tools",
        `The function names '${earlier}' and '${name}' would both reach Gemini as '${alias}' (Gemini's names ` +
          "start with a letter or _, hold only a-z, A-Z, 0-9, _ . : -, and have at most 64 characters): rename one.",
      );
    }
    this.#sent.set(alias, name);
    return alias;
  }

  /** The client's name for a function name in Gemini's answer (itself when it is no alias). */
  toClient(name: string): string {
    return this.#sent.get(name) ?? name;
  }
}
