/**
 * Run-time view of the island bundle: reads `static/build/manifest.json` (written by
 * `scripts/build_islands.ts`) to learn the build id and the URL of every bundled entry.
 *
 * @module
 */

/** The file written by the build next to the build folders. */
export interface BuildManifestFile {
  /** Folder name under `static/build/`. */
  buildId: string;
  /** Output path of the client runtime, relative to the build folder. */
  client: string;
  /** Source island file (root-relative) -> output path relative to the build folder. */
  islands: Record<string, string>;
  /** ISO time of the build. */
  builtAt?: string;
}

/** URLs of the current island bundle. */
export interface BuildInfo {
  /** The build id. */
  buildId: string;
  /** URL of the client runtime module, e.g. `/static/build/ab12/lib/islands/client.js`. */
  clientUrl: string;
  /** Source island file -> module URL. */
  islandUrls: Record<string, string>;
}

/** Where `static/` is served (see `static_routes.ts`): pages link stylesheets and bundles under it. */
export const STATIC_BASE = "/static";

/** Where the project root is (this file lives in `lib/islands/`). */
export const PROJECT_ROOT: URL = new URL("../../", import.meta.url);

/** Turns a parsed manifest into URLs under {@link STATIC_BASE}. */
export function buildInfoFrom(manifest: BuildManifestFile): BuildInfo {
  const base = `${STATIC_BASE}/build/${manifest.buildId}/`;
  const islandUrls: Record<string, string> = {};
  for (const [file, out] of Object.entries(manifest.islands)) islandUrls[file] = base + out;
  return { buildId: manifest.buildId, clientUrl: base + manifest.client, islandUrls };
}

/**
 * Reads `static/build/manifest.json` under `root` (default: the project root). Returns null when
 * there is no build yet (run `deno task build`); throws when the file exists but is malformed.
 */
export function loadBuildInfo(opts: { root?: URL } = {}): BuildInfo | null {
  const url = new URL("static/build/manifest.json", opts.root ?? PROJECT_ROOT);
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (!isManifest(parsed)) {
    throw new Error(`${url.pathname} is not a valid island build manifest; re-run \`deno task build\`.`);
  }
  return buildInfoFrom(parsed);
}

function isManifest(v: unknown): v is BuildManifestFile {
  if (v === null || typeof v !== "object") return false;
  const m = v as Record<string, unknown>;
  return typeof m.buildId === "string" && /^[\w-]+$/.test(m.buildId) && typeof m.client === "string" &&
    m.islands !== null && typeof m.islands === "object";
}
