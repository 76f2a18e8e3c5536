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
import { Hono } from "hono";
import type { Context, Next } from "hono";
import {
  admitClientToken,
  type AuthVariables,
  type ClientAuthOptions,
  type ClientToken,
  hashToken,
  readClientToken,
} from "../lib/http/client_auth.ts";
import { badRequest, GatewayError, googleErrorResponse, unauthenticated } from "../lib/http/errors.ts";
import type { LivePin } from "../lib/live/pins.ts";
import { readBody } from "../lib/http/body.ts";
import {
  callContext,
  type EdgeDeps,
  type EdgeGuard,
  type EdgeRoute,
  guardRoute,
} from "../lib/pipeline/edge.ts";
import {
  authTokensVersion,
  type LiveEndpoint,
  liveEndpoint,
  readEphemeralToken,
} from "../lib/live/endpoints.ts";
import { authTokenModel, createdToken } from "../lib/live/auth_tokens.ts";
import type { LiveSessions } from "../lib/live/live_sessions.ts";

type Ctx = Context<{ Variables: AuthVariables }>;

/** Handshake headers passed on to Google (the client SDK's identification; never a credential). */
const PASS_HEADERS = ["user-agent", "x-goog-api-client"];

/** Runs the shared client auth on its own; it throws a 401/429 `GatewayError` when it refuses. */
async function authenticate(auth: readonly EdgeGuard[], c: Ctx): Promise<string> {
  for (const guard of auth) await guard.enter(c);
  return c.get("tokenName");
}

/**
 * The client token that created an ephemeral token, checked as client auth checks it (revoked, expired,
 * limits), on every session the ephemeral token opens: a token revoked after it created the ephemeral
 * token opens no more sessions.
 *
 * @throws {GatewayError} 401 when the creator is gone, revoked or expired; 429 when its limits say so.
 */
function ephemeralCreator(tokens: LiveGuards["tokens"], pin: LivePin, req: Request): ClientToken {
  const creator = pin.tokenHash ? tokens.resolve(pin.tokenHash)?.token : undefined;
  if (!creator) {
    throw unauthenticated(
      "The client token that created this ephemeral token is no longer valid on this gateway. Create a " +
        "new ephemeral token with POST /v1alpha/auth_tokens (authenticated with a valid client token).",
    );
  }
  admitClientToken(
    tokens,
    creator,
    req,
    `The client token '${creator.name}' that created this ephemeral token`,
  );
  return creator;
}

/**
 * Refuses a request that is no WebSocket handshake at all (a plain GET from a browser or curl).
 *
 * @throws {GatewayError} 426 without `Upgrade: websocket`.
 */
function checkUpgrade(req: Request): void {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new GatewayError(
      426,
      "This is the Gemini Live API's WebSocket endpoint: connect with a WebSocket client " +
        "(e.g. @google/genai ai.live.connect).",
      { googleStatus: "FAILED_PRECONDITION", headers: { upgrade: "websocket" } },
    );
  }
}

/**
 * Checks the rest of what `Deno.upgradeWebSocket` needs, so an incomplete handshake gets a 400 that says
 * what is missing rather than the `TypeError` it throws (RFC 6455 §4.1: a GET with `Upgrade: websocket`,
 * `Connection: Upgrade` and `Sec-WebSocket-Key`).
 *
 * @throws {GatewayError} 400 for an incomplete handshake.
 */
function checkHandshake(req: Request): void {
  if (req.method !== "GET") {
    throw badRequest(
      undefined,
      `A WebSocket handshake is a GET request; this one is a ${req.method}. Connect with a WebSocket client.`,
    );
  }
  const connection = (req.headers.get("connection") ?? "").toLowerCase().split(",").map((t) => t.trim());
  if (!connection.includes("upgrade")) {
    throw badRequest(
      undefined,
      "The WebSocket handshake arrived without 'Connection: Upgrade'. A reverse proxy in front of the gateway " +
        "drops it: pass the Upgrade and Connection headers on (nginx: proxy_http_version 1.1; " +
        'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade").',
    );
  }
  if (!req.headers.get("sec-websocket-key")) {
    throw badRequest(undefined, "The WebSocket handshake has no 'Sec-WebSocket-Key' header.");
  }
}

/** Accepts a Live WebSocket: authenticates, admits, upgrades and starts relaying. */
async function upgrade(o: LiveGuards, live: LiveSessions, c: Ctx, endpoint: LiveEndpoint): Promise<Response> {
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
    tokenName = ephemeralCreator(o.tokens, pin, req).name;
    ephemeral = { token, keyId: pin.keyId };
  } else {
    tokenName = await authenticate(o.auth, c);
  }
  checkUpgrade(req);
  live.admit(tokenName);
  checkHandshake(req);
  const headers = new Headers();
  for (const h of PASS_HEADERS) {
    const v = req.headers.get(h);
    if (v) headers.set(h, v);
  }
  let upgraded: ReturnType<typeof Deno.upgradeWebSocket>;
  try {
    upgraded = Deno.upgradeWebSocket(req);
  } catch (err) {
    // Whatever else the runtime finds wrong with the handshake (e.g. its Sec-WebSocket-Version).
    throw badRequest(undefined, `The WebSocket handshake is not valid: ${(err as Error).message}`);
  }
  const { socket, response } = upgraded;
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
    headers: { "content-type": "application/json" },
    body,
    model: authTokenModel(body),
  });
  const text = await response.text();
  const token = createdToken(text);
  const secret = readClientToken(req);
  if (token) {
    live.pins.pin("token", token.name, {
      keyId,
      tokenName,
      tokenHash: secret ? hashToken(secret) : undefined,
      ttlMs: token.ttlMs,
    });
  }
  return new Response(text, { status: response.status, headers: response.headers });
}

/** The shared guards of the API routes (the client's note, CORS, client auth) and client auth alone. */
export interface LiveGuards {
  /** The client's note, then client auth (sets `tokenName`, throws 401/429): a handshake with a client token. */
  auth: readonly EdgeGuard[];
  /** What every edge runs first (note, CORS, client auth); ephemeral tokens are an API call like any other. */
  guards: readonly EdgeGuard[];
  /** Client auth's token lookup and limits: the creator of an ephemeral token passes them on each session. */
  tokens: Pick<ClientAuthOptions, "resolve" | "admit">;
}

/** The Live routes: an app with them, and the same for paths no route pattern can name. */
export interface LiveRoutes {
  /** Mount before the edges (`app.route("/", routes.app)`). */
  app: Hono<{ Variables: AuthVariables }>;
  /**
   * For a request no route matched: its answer when its path is a Live one that route patterns do not
   * match (SDKs may ask for `//ws/...`), else undefined.
   */
  fallback(c: Context): Promise<Response> | undefined;
}

const VERSIONS = ["v1", "v1beta", "v1alpha"];
/** The ephemeral-token paths as route patterns (`/v1alpha/auth_tokens`, also with `/` and under `/gemini`). */
const AUTH_TOKENS_ROUTES = ["", "/gemini"].flatMap((under) =>
  VERSIONS.flatMap((v) => [`${under}/${v}/auth_tokens`, `${under}/${v}/auth_tokens/`])
);
const NO_NEXT = () => Promise.resolve();

/**
 * The Live routes, mounted before the edges on their own paths only (other requests never pass them):
 * WebSocket sessions at `/ws/...` and `/gemini/ws/...` (client auth, or an ephemeral token on the
 * Constrained method) and ephemeral tokens at `POST /{version}/auth_tokens` (behind the edges' guards).
 * Errors come back in Google's envelope. Without Live sessions (`deps.live` absent) there are none.
 */
export function createLiveRoutes(deps: EdgeDeps, o: LiveGuards): LiveRoutes {
  const app = new Hono<{ Variables: AuthVariables }>();
  const live = deps.live;
  if (!live) return { app, fallback: () => undefined };
  const createTokens = guardRoute({
    guards: o.guards,
    route: (c) => {
      live.ensureEnabled();
      return createToken(deps, live, c, authTokensVersion(c.req.path)!);
    },
    onError: googleErrorResponse,
  });
  // An OPTIONS that is no CORS preflight passes the guards and finds no route.
  const tokensOptions = guardRoute({
    guards: o.guards,
    route: (c) => Promise.resolve(c.text("404 Not Found", 404)),
    onError: googleErrorResponse,
  });
  const session = async function liveSession(c: Ctx, next: Next): Promise<Response | void> {
    const endpoint = liveEndpoint(c.req.path);
    if (!endpoint) return await next();
    try {
      live.ensureEnabled();
      return await upgrade(o, live, c, endpoint);
    } catch (err) {
      return googleErrorResponse(err);
    }
  };
  app.all("/ws/*", session);
  app.all("/gemini/ws/*", session);
  for (const path of AUTH_TOKENS_ROUTES) {
    app.post(path, createTokens);
    app.options(path, tokensOptions);
  }
  const answer = async (route: EdgeRoute, c: Ctx) => (await route(c, NO_NEXT)) ?? c.res;
  return {
    app,
    fallback(context) {
      // The app's own context: the Live routes set the variables of an edge's.
      const c = context as unknown as Ctx;
      const path = c.req.path;
      if (liveEndpoint(path)) return answer(session, c);
      if (!authTokensVersion(path)) return undefined;
      if (c.req.method === "POST") return answer(createTokens, c);
      return c.req.method === "OPTIONS" ? answer(tokensOptions, c) : undefined;
    },
  };
}
