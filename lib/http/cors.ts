/**
 * CORS for the API routes, so browser apps and editor plugins can call the gateway from a page:
 * preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered here, before client auth
 * (browsers never send credentials on a preflight), and every answer, errors included, carries
 * `Access-Control-Allow-Origin` and the exposed headers. Mounted on the API edges only, never on
 * `/admin`. Source: https://fetch.spec.whatwg.org/#http-cors-protocol
 *
 * @module
 */
import type { EdgeGuard } from "../pipeline/edge.ts";

/**
 * Request headers the API clients send, by who sends them. A preflight is allowed the ones it asks
 * for that match; anything else is left out, and the browser refuses the call.
 */
const CLIENT_HEADERS: ReadonlyArray<{ header: RegExp; sentBy: string }> = [
  { header: /^content-type$/, sentBy: "every client" },
  { header: /^authorization$/, sentBy: "OpenAI SDK, Bearer tokens" },
  { header: /^x-goog-api-key$/, sentBy: "Google's SDKs (@google/genai, google-genai), curl" },
  { header: /^x-goog-api-client$/, sentBy: "Google's SDKs" },
  { header: /^x-goog-upload-[a-z-]+$/, sentBy: "resumable uploads (protocol, command, offset, header-*)" },
  { header: /^x-server-timeout$/, sentBy: "Google's SDKs with a timeout" },
  { header: /^x-api-key$/, sentBy: "Anthropic SDK" },
  { header: /^anthropic-(?:version|beta|dangerous-direct-browser-access)$/, sentBy: "Anthropic SDK" },
  { header: /^x-stainless-[a-z-]+$/, sentBy: "OpenAI and Anthropic SDKs (platform, retry count, timeout)" },
  { header: /^openai-(?:organization|project|beta)$/, sentBy: "OpenAI SDK" },
  { header: /^(?:accept|user-agent|x-request-id)$/, sentBy: "various clients" },
];

/** Response headers a page may read: the upload session URL and status, and when to retry. */
export const EXPOSED_HEADERS: readonly string[] = [
  "x-goog-upload-url",
  "x-goog-upload-status",
  "x-goog-upload-size-received",
  "x-goog-upload-chunk-granularity",
  "x-goog-upload-control-url",
  "retry-after",
];

const METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/** Chromium caps the preflight cache at 2 hours. */
const MAX_AGE_SECONDS = "7200";

/** Options for {@link cors}. */
export interface CorsOptions {
  /** Allowed origins (`https://app.example`), `*` for any; empty turns CORS off. Read per request. */
  origins: () => readonly string[];
}

/** The `Access-Control-Allow-Origin` value for `origin`, or undefined when it may not call. */
export function allowedOrigin(origin: string | undefined, origins: readonly string[]): string | undefined {
  if (!origin) return undefined;
  if (origins.includes("*")) return "*";
  return origins.some((o) => o.replace(/\/$/, "").toLowerCase() === origin.toLowerCase())
    ? origin
    : undefined;
}

/** The requested headers (a preflight's `Access-Control-Request-Headers`) that clients may send. */
export function allowedHeaders(requested: string | undefined): string {
  return (requested ?? "").split(",").map((h) => h.trim().toLowerCase())
    .filter((h) => h && CLIENT_HEADERS.some((c) => c.header.test(h)))
    .join(", ");
}

function setVary(headers: Headers, value: string): void {
  const have = headers.get("vary");
  if (!have) headers.set("vary", value);
  else if (!have.toLowerCase().includes(value.toLowerCase())) headers.set("vary", `${have}, ${value}`);
}

/**
 * CORS as an edge guard: answers preflights without auth (`enter`) and adds CORS headers to every
 * answer of the routes it guards (`leave`). A request without `Origin` (every non-browser client)
 * passes at the cost of one header lookup.
 */
export function corsGuard(options: CorsOptions): EdgeGuard {
  /** The allowed origin of each request that had one, for `leave` (computed once, in `enter`). */
  const allowed = new WeakMap<Request, string>();
  return {
    enter(c) {
      const req = c.req.raw;
      const origin = req.headers.get("origin");
      if (!origin) return undefined;
      const allow = allowedOrigin(origin, options.origins());
      if (req.method === "OPTIONS" && req.headers.get("access-control-request-method")) {
        const headers = new Headers({ vary: "Origin, Access-Control-Request-Headers" });
        if (allow) {
          headers.set("access-control-allow-origin", allow);
          headers.set("access-control-allow-methods", METHODS);
          const wanted = allowedHeaders(req.headers.get("access-control-request-headers") ?? undefined);
          if (wanted) headers.set("access-control-allow-headers", wanted);
          headers.set("access-control-max-age", MAX_AGE_SECONDS);
        }
        return new Response(null, { status: 204, headers });
      }
      if (allow) allowed.set(req, allow);
      return undefined;
    },
    leave(c, res) {
      const allow = allowed.get(c.req.raw);
      return allow ? withCorsHeaders(res, allow) : res;
    },
  };
}

/** `res` with the CORS headers of an answer to an allowed origin (a copy when its headers are immutable). */
function withCorsHeaders(res: Response, allow: string): Response {
  try {
    res.headers.set("access-control-allow-origin", allow);
  } catch {
    // immutable headers (a fetched Response passed through): copy them once
    res = new Response(res.body, res);
    res.headers.set("access-control-allow-origin", allow);
  }
  res.headers.set("access-control-expose-headers", EXPOSED_HEADERS.join(", "));
  if (allow !== "*") setVary(res.headers, "Origin");
  return res;
}
