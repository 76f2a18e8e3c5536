/**
 * The Gemini Live API through the gateway: WebSocket sessions at
 * `/ws/google.ai.generativelanguage.{v1,v1beta,v1alpha}.GenerativeService.BidiGenerateContent` (and
 * `BidiGenerateContentConstrained` for ephemeral tokens), and ephemeral tokens at
 * `POST /{version}/auth_tokens`, also under `/gemini/`.
 *
 * Not an `Edge`: an edge's routes sit behind the shared client auth, and a Live session is not an HTTP
 * call through the pipeline. The Constrained endpoint authenticates with an ephemeral token the gateway
 * issued, which the shared client auth must not accept anywhere else, and a session chooses its key and
 * relays frames itself (`lib/live/`). So these routes are mounted next to the edges (before them, since
 * SDKs may ask for `//ws/...`) and call the shared client auth themselves for client tokens. Creating an
 * ephemeral token is an ordinary call through the pipeline (`deps.gemini.send`).
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Context } from "hono";
import type { AuthVariables } from "../lib/http/client_auth.ts";
import { GatewayError, googleErrorResponse, unauthenticated } from "../lib/http/errors.ts";
import { readBody } from "../lib/http/body.ts";
import { callContext, type EdgeDeps } from "../lib/pipeline/edge.ts";
import {
  authTokensVersion,
  type LiveEndpoint,
  liveEndpoint,
  readEphemeralToken,
} from "../lib/live/endpoints.ts";
import { authTokenModel, createdToken } from "../lib/live/auth_tokens.ts";
import type { LiveSessions } from "../lib/live/live_sessions.ts";

type Ctx = Context<{ Variables: AuthVariables }>;
type Auth = MiddlewareHandler<{ Variables: AuthVariables }>;

/** Handshake headers passed on to Google (the client SDK's identification; never a credential). */
const PASS_HEADERS = ["user-agent", "x-goog-api-client"];

/** Runs the shared client auth on its own; it throws a 401/429 `GatewayError` when it refuses. */
async function authenticate(auth: Auth, c: Ctx): Promise<string> {
  await auth(c, () => Promise.resolve());
  return c.get("tokenName");
}

/** Accepts a Live WebSocket: authenticates, admits, upgrades and starts relaying. */
async function upgrade(live: LiveSessions, auth: Auth, c: Ctx, endpoint: LiveEndpoint): Promise<Response> {
  const req = c.req.raw;
  const constrained = endpoint.method === "BidiGenerateContentConstrained";
  const token = constrained ? readEphemeralToken(req) : undefined;
  let tokenName: string;
  let ephemeral: { token: string; keyId: string } | undefined;
  if (token) {
    const pin = live.pins.find("token", token);
    if (!pin) {
      throw unauthenticated(
        "The ephemeral token is unknown to this gateway or has expired. Create one here with " +
          "POST /v1alpha/auth_tokens (authenticated with your client token).",
      );
    }
    tokenName = pin.tokenName ?? "ephemeral";
    ephemeral = { token, keyId: pin.keyId };
  } else {
    tokenName = await authenticate(auth, c);
  }
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new GatewayError(
      426,
      "This is the Gemini Live API's WebSocket endpoint: connect with a WebSocket client " +
        "(e.g. @google/genai ai.live.connect).",
      { googleStatus: "FAILED_PRECONDITION", headers: { upgrade: "websocket" } },
    );
  }
  live.admit(tokenName);
  const headers = new Headers();
  for (const h of PASS_HEADERS) {
    const v = req.headers.get(h);
    if (v) headers.set(h, v);
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  live.start({
    client: socket,
    // A client token opens an ordinary session even on the Constrained path: Google's Constrained
    // method takes only ephemeral tokens.
    endpoint: ephemeral ? endpoint : { ...endpoint, method: "BidiGenerateContent" },
    tokenName,
    ephemeral,
    headers,
  });
  return response;
}

/** Creates an ephemeral token with a pool key (through the pipeline) and pins it to that key. */
async function createToken(deps: EdgeDeps, live: LiveSessions, c: Ctx, version: string): Promise<Response> {
  const tokenName = c.get("tokenName");
  const req = c.req.raw;
  const body = await readBody(req, deps.settings().maxBodyBytes, {
    timeoutMs: deps.settings().clientBodyTimeoutMs,
  });
  const { response, keyId } = await deps.gemini.for(callContext(c, "live")).send({
    method: "POST",
    path: `/${version}/auth_tokens`,
    headers: new Headers({ "content-type": "application/json" }),
    body,
    model: authTokenModel(body),
  });
  const text = await response.text();
  const token = createdToken(text);
  if (token) live.pins.pin("token", token.name, { keyId, tokenName, ttlMs: token.ttlMs });
  return new Response(text, { status: response.status, headers: response.headers });
}

/** The shared guards of the API routes (CORS, then client auth) and client auth alone. */
export interface LiveGuards {
  /** Client auth: sets `tokenName`, throws 401/429. */
  auth: Auth;
  /** What every edge runs first (CORS, client auth); ephemeral tokens are an API call like any other. */
  guards: ReadonlyArray<Auth>;
}

/**
 * The Live routes, mounted before the edges: WebSocket sessions (client auth, or an ephemeral token on
 * the Constrained method) and ephemeral tokens (behind the edges' guards). Any other request passes on.
 * Errors come back in Google's envelope.
 */
export function createLiveRoutes(deps: EdgeDeps, o: LiveGuards): Hono<{ Variables: AuthVariables }> {
  const tokens = new Hono<{ Variables: AuthVariables }>();
  tokens.onError((err) => googleErrorResponse(err));
  for (const guard of o.guards) tokens.use("*", guard);
  tokens.post("*", (c) => {
    const live = deps.live!;
    live.ensureEnabled();
    return createToken(deps, live, c, authTokensVersion(c.req.path)!);
  });

  const app = new Hono<{ Variables: AuthVariables }>();
  app.use("*", async function liveHandler(c, next) {
    const live = deps.live;
    if (!live) return await next();
    const endpoint = liveEndpoint(c.req.path);
    if (!endpoint) {
      const isTokens = (c.req.method === "POST" || c.req.method === "OPTIONS") &&
        authTokensVersion(c.req.path);
      // The connection info goes along: throttles and logs read the client's address from it.
      return isTokens ? await tokens.fetch(c.req.raw, c.env) : await next();
    }
    try {
      live.ensureEnabled();
      return await upgrade(live, o.auth, c, endpoint);
    } catch (err) {
      return googleErrorResponse(err);
    }
  });
  return app;
}
