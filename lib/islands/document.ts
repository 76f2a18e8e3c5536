/**
 * Full HTML documents: head, the rendered body with island markers, and the boot script at the end
 * of the body (only when the page used islands).
 *
 * @module
 */
import { h, type JSX, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { BuildInfo } from "./build_info.ts";
import { bootScript, modulePreloads } from "./boot_script.ts";
import type { IslandRegistry } from "./registry.ts";
import { renderWithIslands } from "./render.ts";

/** Options for {@link renderDocument}. */
export interface DocumentOptions {
  /** The `<title>` text. */
  title: string;
  /** What goes inside `<body>`. */
  body: JSX.Element;
  /** Extra `<head>` elements (stylesheets, meta tags); rendered without island handling. */
  head?: VNode;
  /** The island registry (from the static manifest). */
  registry: IslandRegistry;
  /** The current bundle; null when not built (islands then render without hydration). */
  build: BuildInfo | null;
  /** CSP nonce for the inline boot script. */
  nonce?: string;
  /** `<html lang>`; default `en`. */
  lang?: string;
}

let warnedNoBuild = false;

/** Renders a complete `<!doctype html>` document. */
export function renderDocument(opts: DocumentOptions): string {
  const result = renderWithIslands(opts.body, opts.registry);
  let script = "";
  let preloads = "";
  if (result.payload && opts.build) {
    script = bootScript(result, { build: opts.build, nonce: opts.nonce });
    preloads = modulePreloads(result, opts.build);
  } else if (result.payload && !warnedNoBuild) {
    warnedNoBuild = true;
    console.warn(
      "Island bundle not found (static/build/manifest.json); run `deno task build`. " +
        "Pages render without interactivity until then.",
    );
  }
  const head = renderToString(
    h("head", null, [
      h("meta", { charset: "utf-8" }),
      h("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
      h("title", null, opts.title),
      opts.head ?? null,
    ]),
  );
  const headHtml = preloads ? head.replace("</head>", `${preloads}</head>`) : head;
  return `<!doctype html><html lang="${
    opts.lang ?? "en"
  }">${headHtml}<body>${result.html}${script}</body></html>`;
}
