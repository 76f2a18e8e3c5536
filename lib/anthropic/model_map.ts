/**
 * Claude model names to Gemini models. Claude Code and other Anthropic clients ask for Claude models
 * by name (`claude-sonnet-4-5`, and a small fast `claude-haiku-…` for side tasks); the setting
 * `CLAUDE_MODEL_MAP` maps name patterns to Gemini models. Names no pattern matches, Gemini names
 * among them, pass as they are.
 *
 * @module
 */

const compiled = new Map<string, RegExp>();

/** A `*` pattern (any text, case-insensitive, whole name) as a regular expression. */
function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    re = new RegExp(`^${body}$`, "i");
    if (compiled.size < 1000) compiled.set(pattern, re);
  }
  return re;
}

/**
 * The model to call for a client's model name: the target of the first pattern of `map` (in its
 * order) that matches the whole name, else the name itself.
 */
export function geminiModelFor(name: string, map: Readonly<Record<string, string>>): string {
  for (const [pattern, target] of Object.entries(map)) {
    if (patternRegExp(pattern).test(name)) return target;
  }
  return name;
}
