/**
 * Resource routes of the mock Gemini upstream: resumable file uploads and files (wire reference A8),
 * cachedContents (A9); batches and operations are in `mock_gemini_jobs.ts`. Resources belong to the creating key's project (or the key).
 *
 * @module
 */

import {
  cacheDeniedError,
  fileDeniedError,
  googleHeaders,
  invalidArgument,
  jsonResponse,
  modelNotFoundError,
  notFoundError,
} from "./mock_gemini_http.ts";
import { findModel } from "./mock_gemini_models.ts";
import type { Route, RouteContext } from "./mock_gemini_types.ts";
import {
  contentsText,
  field,
  type Json,
  paginate,
  randomId,
  stringField,
  wordCount,
} from "./mock_gemini_util.ts";

const HOUR_MS = 3600_000;

function listOwned(
  ctx: RouteContext,
  o: { items: Map<string, { owner: string; resource: Json }>; key: string },
) {
  const owned = [...o.items.values()].filter((f) => f.owner === ctx.owner).map((f) => f.resource);
  const size = Number(ctx.url.searchParams.get("pageSize") ?? 10);
  const { page, nextPageToken } = paginate(owned, {
    pageSize: Number.isFinite(size) && size > 0 ? size : 10,
    pageToken: ctx.url.searchParams.get("pageToken"),
  });
  const body: Json = page.length > 0 ? { [o.key]: page } : {};
  if (nextPageToken) body.nextPageToken = nextPageToken;
  return jsonResponse(body);
}

async function sha256Base64OfHex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return btoa(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
}

function startUpload(ctx: RouteContext): Response {
  const h = ctx.req.headers;
  if (h.get("x-goog-upload-protocol") !== "resumable" || h.get("x-goog-upload-command") !== "start") {
    return invalidArgument(
      "The mock only supports resumable uploads: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.",
    );
  }
  const file = field(ctx.json, "file");
  const id = randomId(12);
  ctx.state.uploads.set(id, {
    owner: ctx.owner,
    displayName: stringField(file, "displayName"),
    mimeType: h.get("x-goog-upload-header-content-type") ?? stringField(file, "mimeType") ??
      "application/octet-stream",
    chunks: [],
    size: 0,
  });
  const headers = googleHeaders("text/plain; charset=utf-8");
  const uploadUrl = `${ctx.state.url}/upload/${ctx.version}/files?upload_id=${id}&upload_protocol=resumable`;
  headers.set("x-goog-upload-url", uploadUrl);
  headers.set("x-goog-upload-control-url", uploadUrl);
  headers.set("x-goog-upload-status", "active");
  headers.set("x-goog-upload-chunk-granularity", "8388608");
  headers.set("x-guploader-uploadid", id);
  return new Response(null, { status: 200, headers });
}

async function continueUpload(ctx: RouteContext, id: string): Promise<Response> {
  const session = ctx.state.uploads.get(id);
  if (!session) return notFoundError(`Upload session ${id} was not found; start a new upload.`);
  const commands = (ctx.req.headers.get("x-goog-upload-command") ?? "").split(",").map((c) => c.trim());
  const headers = googleHeaders("text/plain; charset=utf-8");
  if (commands.includes("upload")) {
    const offset = Number(ctx.req.headers.get("x-goog-upload-offset") ?? session.size);
    if (offset !== session.size) {
      return invalidArgument(
        `X-Goog-Upload-Offset ${offset} does not match the ${session.size} bytes received.`,
      );
    }
    session.chunks.push(ctx.bodyBytes);
    session.size += ctx.bodyBytes.length;
  }
  if (!commands.includes("finalize")) {
    headers.set("x-goog-upload-status", "active");
    headers.set("x-goog-upload-size-received", String(session.size));
    return new Response(null, { status: 200, headers });
  }
  ctx.state.uploads.delete(id);
  const bytes = new Uint8Array(session.size);
  let at = 0;
  for (const c of session.chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const now = new Date();
  const resource: Json = {
    name: `files/${id}`,
    ...(session.displayName !== undefined ? { displayName: session.displayName } : {}),
    mimeType: session.mimeType,
    sizeBytes: String(session.size),
    createTime: now.toISOString(),
    updateTime: now.toISOString(),
    expirationTime: new Date(now.getTime() + 48 * HOUR_MS).toISOString(),
    sha256Hash: await sha256Base64OfHex(bytes),
    uri: `${ctx.state.url}/v1beta/files/${id}`,
    state: "ACTIVE",
    source: "UPLOADED",
  };
  ctx.state.files.set(id, { owner: session.owner, resource, bytes });
  const res = jsonResponse({ file: resource });
  res.headers.set("x-goog-upload-status", "final");
  return res;
}

function ownedFile(ctx: RouteContext): Json | Response {
  const f = ctx.state.files.get(ctx.params.id);
  return f && f.owner === ctx.owner ? f.resource : fileDeniedError(ctx.params.id);
}

function ownedCache(ctx: RouteContext): Json | Response {
  const c = ctx.state.caches.get(ctx.params.id);
  return c && c.owner === ctx.owner ? c.resource : cacheDeniedError(ctx.params.id);
}

function expireTime(body: unknown, now: number): string {
  const explicit = stringField(body, "expireTime");
  if (explicit) return explicit;
  const ttl = /^(\d+(?:\.\d+)?)s$/.exec(stringField(body, "ttl") ?? "");
  return new Date(now + (ttl ? Number(ttl[1]) * 1000 : HOUR_MS)).toISOString();
}

function createCache(ctx: RouteContext): Response {
  const model = stringField(ctx.json, "model");
  if (model === undefined) {
    return invalidArgument("* CreateCachedContentRequest.cached_content.model: model is required\n");
  }
  if (!findModel(model)) {
    return modelNotFoundError({
      model: model.replace(/^models\//, ""),
      version: ctx.version,
      method: "createCachedContent",
    });
  }
  const system = field(ctx.json, "systemInstruction");
  const contents = field(ctx.json, "contents");
  const tokens = wordCount(contentsText(Array.isArray(contents) ? contents : [])) +
    wordCount(contentsText(system ? [system] : []));
  const id = randomId(16);
  const now = Date.now();
  const displayName = stringField(ctx.json, "displayName");
  const resource: Json = {
    name: `cachedContents/${id}`,
    model: model.startsWith("models/") ? model : `models/${model}`,
    ...(displayName !== undefined ? { displayName } : {}),
    createTime: new Date(now).toISOString(),
    updateTime: new Date(now).toISOString(),
    expireTime: expireTime(ctx.json, now),
    usageMetadata: { totalTokenCount: tokens },
  };
  ctx.state.caches.set(id, { owner: ctx.owner, resource });
  return jsonResponse(resource);
}

/** Routes for files, uploads and cachedContents. */
export const RESOURCE_ROUTES: Route[] = [
  {
    method: "POST",
    path: "/files",
    upload: true,
    handle(ctx) {
      const session = ctx.url.searchParams.get("upload_id");
      return session === null ? startUpload(ctx) : continueUpload(ctx, session);
    },
  },
  {
    method: "GET",
    path: "/files",
    handle: (ctx) => listOwned(ctx, { items: ctx.state.files, key: "files" }),
  },
  {
    method: "GET",
    path: "/files/{id}",
    handle(ctx) {
      const f = ownedFile(ctx);
      return f instanceof Response ? f : jsonResponse(f);
    },
  },
  {
    method: "DELETE",
    path: "/files/{id}",
    handle(ctx) {
      const f = ownedFile(ctx);
      if (f instanceof Response) return f;
      ctx.state.files.delete(ctx.params.id);
      return jsonResponse({});
    },
  },
  { method: "POST", path: "/cachedContents", handle: createCache },
  {
    method: "GET",
    path: "/cachedContents",
    handle: (ctx) => listOwned(ctx, { items: ctx.state.caches, key: "cachedContents" }),
  },
  {
    method: "GET",
    path: "/cachedContents/{id}",
    handle(ctx) {
      const c = ownedCache(ctx);
      return c instanceof Response ? c : jsonResponse(c);
    },
  },
  {
    method: "PATCH",
    path: "/cachedContents/{id}",
    handle(ctx) {
      const c = ownedCache(ctx);
      if (c instanceof Response) return c;
      const now = Date.now();
      if (field(ctx.json, "ttl") !== undefined || field(ctx.json, "expireTime") !== undefined) {
        c.expireTime = expireTime(ctx.json, now);
      }
      c.updateTime = new Date(now).toISOString();
      return jsonResponse(c);
    },
  },
  {
    method: "DELETE",
    path: "/cachedContents/{id}",
    handle(ctx) {
      const c = ownedCache(ctx);
      if (c instanceof Response) return c;
      ctx.state.caches.delete(ctx.params.id);
      return jsonResponse({});
    },
  },
];
