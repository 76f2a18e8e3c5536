/**
 * Where the Gemini Live API lives and how its callers authenticate. Google serves Live sessions as
 * WebSockets at `/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}` on the API host
 * (`wss://generativelanguage.googleapis.com`), and ephemeral tokens at `POST /{version}/auth_tokens`.
 *
 * - `BidiGenerateContent` takes an API key: `?key=` (Google's docs, @google/genai) or the
 *   `x-goog-api-key` handshake header (google-genai for Python sends only the header). The gateway
 *   always sends its pool key in the header.
 * - `BidiGenerateContentConstrained` takes an ephemeral token (`auth_tokens/…`): `?access_token=`
 *   (@google/genai, Google's docs) or `Authorization: Token auth_tokens/…` (google-genai for Python).
 *
 * Sources: https://ai.google.dev/gemini-api/docs/live-api/get-started-websocket,
 * https://ai.google.dev/gemini-api/docs/ephemeral-tokens, @google/genai `Live.connect`, python-genai
 * `AsyncLive.connect`.
 *
 * @module
 */

/** The Live RPC methods. */
export type LiveMethod = "BidiGenerateContent" | "BidiGenerateContentConstrained";

/** A Live endpoint as a client named it. */
export interface LiveEndpoint {
  /** API version in the path: `v1`, `v1beta` or `v1alpha` (@google/genai 3.x defaults to `v1`). */
  version: string;
  method: LiveMethod;
}

/** `/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`, also under `/gemini/` (SDKs may double the slash). */
const LIVE_PATH =
  /^\/+(?:gemini\/+)?ws\/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)\/?$/;
/** `/v1alpha/auth_tokens`, also under `/gemini/`. */
const AUTH_TOKENS_PATH = /^\/+(?:gemini\/+)?(v1|v1beta|v1alpha)\/auth_tokens\/?$/;

/** The Live endpoint a request path names, or undefined for any other path. */
export function liveEndpoint(pathname: string): LiveEndpoint | undefined {
  const m = LIVE_PATH.exec(pathname);
  return m ? { version: m[1], method: m[2] as LiveMethod } : undefined;
}

/** The API version of an ephemeral-token path (`/v1alpha/auth_tokens`), or undefined for any other path. */
export function authTokensVersion(pathname: string): string | undefined {
  return AUTH_TOKENS_PATH.exec(pathname)?.[1];
}

/** The path of a Live endpoint upstream (no query: credentials go in headers). */
export function livePath(e: LiveEndpoint): string {
  return `/ws/google.ai.generativelanguage.${e.version}.GenerativeService.${e.method}`;
}

/** The upstream WebSocket URL for a Live endpoint: the HTTP base with `http`→`ws`, `https`→`wss`. */
export function liveUpstreamUrl(baseUrl: string, e: LiveEndpoint): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  return url.origin + url.pathname.replace(/\/+$/, "") + livePath(e);
}

const TOKEN_SCHEME = /^token\s+/i;

/** The ephemeral token a client sent (`?access_token=` or `Authorization: Token …`), if any. */
export function readEphemeralToken(req: Request): string | undefined {
  const auth = req.headers.get("authorization");
  if (auth && TOKEN_SCHEME.test(auth)) return auth.replace(TOKEN_SCHEME, "").trim() || undefined;
  if (!req.url.includes("access_token=")) return undefined;
  return new URL(req.url).searchParams.get("access_token") || undefined;
}
