/**
 * Sections of the Settings form: a table from setting name (or name prefix ending in `*`) to its
 * section. Settings not listed land in "Other", so new settings always show up.
 *
 * @module
 */

/** One section of the form. */
export interface SettingsGroup {
  id: string;
  title: string;
  description: string;
  /** Setting names; a trailing `*` matches a prefix. */
  match: string[];
}

/** Sections in display order. */
export const SETTINGS_GROUPS: readonly SettingsGroup[] = [
  {
    id: "access",
    title: "Access",
    description: "Who may call the gateway. Named tokens with limits are managed on the Tokens page.",
    match: ["allowedTokens"],
  },
  {
    id: "upstream",
    title: "Upstream and retries",
    description: "Where requests go and how hard the gateway tries before giving up.",
    match: ["upstreamBaseUrl", "maxAttempts", "requestTimeoutMs", "maxBodyBytes", "prox*"],
  },
  {
    id: "keys",
    title: "Key pool and quotas",
    description: "Cooldowns, waiting for a free key, and re-checks of disabled keys.",
    match: ["defaultCooldownMs", "maxWaitMs", "transientBackoffMaxMs", "quotaWindowMs", "recheckIntervalMs"],
  },
  {
    id: "models",
    title: "Models and features",
    description: "Aliases, suffixes, hidden models, tools and defaults added to requests.",
    match: [
      "aliases",
      "hiddenModels",
      "listVariants",
      "search*",
      "image*",
      "thinking*",
      "default*",
      "codeExecution*",
      "urlContext*",
      "tts*",
    ],
  },
  {
    id: "streaming",
    title: "Streaming",
    description: "Smoother streamed answers and keep-alives for slow first tokens.",
    match: ["smoother*", "keepAlive*"],
  },
  {
    id: "logs",
    title: "Logging",
    description: "The request log and how long entries are kept.",
    match: ["logs*", "log*"],
  },
];

const OTHER: SettingsGroup = { id: "other", title: "Other", description: "More settings.", match: [] };

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Splits items with a `name` into sections (in table order; empty sections left out). */
export function groupSettings<T extends { name: string }>(
  items: T[],
): Array<{ group: SettingsGroup; items: T[] }> {
  const out = new Map<string, { group: SettingsGroup; items: T[] }>();
  for (const g of [...SETTINGS_GROUPS, OTHER]) out.set(g.id, { group: g, items: [] });
  for (const item of items) {
    const g = SETTINGS_GROUPS.find((g) => g.match.some((p) => matches(p, item.name))) ?? OTHER;
    out.get(g.id)!.items.push(item);
  }
  return [...out.values()].filter((s) => s.items.length > 0);
}
