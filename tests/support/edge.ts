/**
 * The dependencies of an edge, built around a given pipeline function (tests pass a fake `forward`
 * that records calls and answers like Google), with the real prepare step and model catalog.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Edge, EdgeDeps } from "../../lib/pipeline/edge.ts";
import { edgeApp } from "../../routes/mod.ts";
import type { AuthVariables } from "../../lib/http/client_auth.ts";
import { type Settings, settingsSchema } from "../../lib/settings_schema.ts";
import { streamDecorators } from "../../lib/features/stream_decorators.ts";
import { type GeminiCaller, GeminiClient, internalContext } from "../../lib/pipeline/gemini_client.ts";
import { CallPreparer } from "../../lib/pipeline/prepare.ts";
import type { Forward } from "../../lib/pipeline/types.ts";
import { ModelCatalog } from "../../lib/pipeline/model_catalog.ts";
import { listModelVariants } from "../../lib/gemini/model_names.ts";
import { ThoughtSignatures } from "../../lib/gemini/thought_signatures.ts";

/** Options of {@link edgeDeps}. */
export interface EdgeDepsOptions {
  /** Settings over the defaults. */
  settings?: Partial<Settings>;
  /** Other fields of the result (e.g. decorators that record their use). */
  override?: Partial<EdgeDeps>;
}

/** Edge dependencies around `forward`. */
export function edgeDeps(forward: Forward, o: EdgeDepsOptions = {}): EdgeDeps {
  const current = settingsSchema.parse(o.settings ?? {});
  const settings = () => current;
  const catalog = new ModelCatalog({
    upstream: (): GeminiCaller => gemini.for(internalContext("models")),
    transformList: (ids) => listModelVariants(ids, current),
  });
  const gemini = new GeminiClient({
    forward,
    preparer: new CallPreparer({ settings, knownModels: () => catalog.known() }),
  });
  return {
    gemini,
    settings,
    catalog,
    decorators: streamDecorators(settings),
    signatures: new ThoughtSignatures(),
    ...o.override,
  };
}

/** An edge served on a loopback port as main mounts it, with a stand-in auth that names the token `tester`. */
export function serveEdge(edge: Edge, deps: EdgeDeps): Deno.HttpServer<Deno.NetAddr> & { url: string } {
  const auth: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
    c.set("tokenName", "tester");
    c.set("tokenId", "tester");
    await next();
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    edgeApp(edge, deps, [auth]).fetch,
  );
  return Object.assign(server, { url: `http://127.0.0.1:${server.addr.port}` });
}
