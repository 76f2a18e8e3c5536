/**
 * Browser helper for the admin JSON API: every state-changing call carries the page's CSRF token
 * (`<meta name="csrf-token">`) as `x-csrf-token`; errors become {@link ApiError} with the server's
 * message and any field violations.
 *
 * @module
 */
import type { FieldViolation } from "./api_types.ts";
import { readErrorDetails } from "../gemini/rpc_status.ts";
import { t } from "./i18n.ts";

/** A failed API call. */
export class ApiError extends Error {
  /** HTTP status (0 when the network failed). */
  status: number;
  /** Per-field problems from a google.rpc.BadRequest detail. */
  violations: FieldViolation[];

  /** Creates an error. */
  constructor(status: number, message: string, violations: FieldViolation[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.violations = violations;
  }
}

/** Options of {@link apiCall}. */
export interface ApiCallOptions {
  /** HTTP method; default GET, or POST when a body is given. */
  method?: string;
  /** JSON body. */
  body?: unknown;
  /** Query parameters (empty values are left out). */
  query?: Record<string, string | number | undefined>;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** The page's CSRF token, or "" when the page has none. */
export function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

/** Builds a URL with query parameters, leaving out empty ones. */
export function withQuery(path: string, query: ApiCallOptions["query"] = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Calls `base + path` and returns the parsed JSON; throws {@link ApiError} on failure. */
export async function apiCall<T>(base: string, path: string, opts: ApiCallOptions = {}): Promise<T> {
  const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["x-csrf-token"] = csrfToken();
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(withQuery(base + path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      credentials: "same-origin",
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, t("api.noAnswer"));
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw errorFrom(res.status, data);
  return data as T;
}

/** Turns an error body (`{error: {message, details}}`) into an {@link ApiError}. */
export function errorFrom(status: number, data: unknown): ApiError {
  const error = isObject(data) && isObject(data.error) ? data.error : {};
  const message = typeof error.message === "string" ? error.message : defaultMessage(status);
  const violations: FieldViolation[] = readErrorDetails(data).fieldViolations.flatMap((v) =>
    v.field === undefined ? [] : [{ field: v.field, description: v.description }]
  );
  return new ApiError(status, message, violations);
}

function defaultMessage(status: number): string {
  if (status === 401) return t("api.401");
  if (status === 403) return t("api.403");
  if (status === 404) return t("api.404");
  return t("api.status", { status });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
