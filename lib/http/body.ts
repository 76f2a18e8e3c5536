/**
 * Reading request bodies with a size limit.
 *
 * @module
 */
import type { z } from "zod";
import { badRequest, tooLarge } from "./errors.ts";

/** Reads a request body as bytes; over `limit` bytes gets a 413 with an actionable message. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  // Decide from the headers, without touching `req.body`: reading that getter turns the body into a
  // JavaScript stream, and `arrayBuffer()` then pumps it chunk by chunk instead of in one native read.
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared === 0 || (Number.isNaN(declared) && !req.headers.has("transfer-encoding") && !req.body)) {
    return null;
  }
  if (declared > limit) throw tooLarge(limit);
  if (declared <= limit) {
    const buf = new Uint8Array(await req.arrayBuffer());
    if (buf.length > limit) throw tooLarge(limit);
    return buf;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body ?? []) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Reads a form body (`application/x-www-form-urlencoded` or `multipart/form-data`) of at most `limit`
 * bytes into its text fields (files are dropped).
 *
 * @throws {GatewayError} 413 over the limit (nothing more is read).
 */
export async function readForm(req: Request, limit: number): Promise<Record<string, string>> {
  const bytes = await readBody(req, limit);
  const type = req.headers.get("content-type") ?? "";
  const out: Record<string, string> = {};
  if (!bytes) return out;
  if (type.startsWith("multipart/form-data")) {
    const form = await new Response(bytes, { headers: { "content-type": type } }).formData().catch(() =>
      null
    );
    form?.forEach((v, k) => typeof v === "string" && (out[k] = v));
    return out;
  }
  new URLSearchParams(new TextDecoder().decode(bytes)).forEach((v, k) => (out[k] = v));
  return out;
}

/** Parses JSON bytes; malformed JSON gets a 400 saying where it broke. */
export function parseJson(bytes: Uint8Array | null): unknown {
  const text = bytes ? new TextDecoder().decode(bytes) : "";
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(
      undefined,
      `Invalid JSON payload received: ${
        e instanceof Error ? e.message : e
      }. Send a JSON object body with Content-Type: application/json.`,
    );
  }
}

/**
 * Reads a JSON request body and validates it with `schema`. A body that is not JSON, or a field that
 * fails, gets a 400 naming the field (in Google's envelope with a BadRequest field violation).
 * `example` shows a good body in the error message.
 */
export async function parseJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  example: string,
): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    throw badRequest("(body)", `The body must be a JSON object, e.g. ${example}.`);
  }
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.path.join(".") || "(body)";
    throw badRequest(field, `${field}: ${i.message}`);
  }
  return r.data;
}
