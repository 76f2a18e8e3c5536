/**
 * The one inline `<script type="module">` a page with islands gets: it imports the client runtime
 * and the island modules this page used, and boots them with the serialized props.
 *
 * @module
 */
import type { BuildInfo } from "./build_info.ts";
import type { IslandRenderResult } from "./render.ts";
import { jsonForScript } from "./serialize.ts";

/** Options for {@link bootScript}. */
export interface BootScriptOptions {
  /** The current bundle. */
  build: BuildInfo;
  /** CSP nonce for the inline script. */
  nonce?: string;
}

/**
 * The boot `<script>` for a render, or "" when it used no islands. Throws when an island used by
 * the page is missing from the bundle (the bundle is stale: re-run `deno task build`).
 */
export function bootScript(result: IslandRenderResult, opts: BootScriptOptions): string {
  if (!result.payload || result.islands.length === 0) return "";
  const lines = [`import { boot } from ${jsonForScript(opts.build.clientUrl)};`];
  const modules = new Map<string, string>();
  const entries: string[] = [];
  for (const island of result.islands) {
    const url = opts.build.islandUrls[island.file];
    if (!url) {
      throw new Error(
        `Island ${island.name} (${island.file}) is not in build ${opts.build.buildId}; run \`deno task build\`.`,
      );
    }
    let alias = modules.get(url);
    if (!alias) {
      alias = `$${modules.size}`;
      modules.set(url, alias);
      lines.push(`import * as ${alias} from ${jsonForScript(url)};`);
    }
    entries.push(`${jsonForScript(island.name)}: ${alias}[${jsonForScript(island.exportName)}]`);
  }
  lines.push(`boot({ ${entries.join(", ")} }, ${jsonForScript(result.payload)});`);
  const nonce = opts.nonce ? ` nonce="${escapeAttr(opts.nonce)}"` : "";
  return `<script type="module"${nonce}>\n${lines.join("\n")}\n</script>`;
}

/** `<link rel="modulepreload">` tags for the runtime and islands a render used ("" without islands). */
export function modulePreloads(result: IslandRenderResult, build: BuildInfo): string {
  if (!result.payload) return "";
  const urls = [build.clientUrl, ...result.islands.map((i) => build.islandUrls[i.file]).filter(Boolean)];
  return urls.map((u) => `<link rel="modulepreload" href="${escapeAttr(u)}">`).join("");
}

/** Escapes a string for a double-quoted HTML attribute. */
export function escapeAttr(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;").replaceAll(
    ">",
    "&gt;",
  );
}
