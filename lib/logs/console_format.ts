/**
 * `LOG_FORMAT=json`: everything the gateway prints goes to stdout as one JSON object per line
 * (`{"time": ISO 8601, "level": "info"|"warn"|"error"|"debug", "msg": ..., ...fields}`), for log
 * shippers, with anything that looks like an API key redacted. Each finished request is printed as
 * well (`"msg": "request"` with its route, model, status, latency, token name and key id; never a key).
 *
 * @module
 */
import type { RequestRecord } from "../pipeline/request_record.ts";
import { redactKeys } from "../secrets/redact.ts";

/** What the gateway prints: plain text, or JSON lines. */
export type LogFormat = "text" | "json";

type Level = "debug" | "info" | "warn" | "error";

const encoder = new TextEncoder();
let installed: LogFormat = "text";

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** One JSON log line (without the newline), keys redacted. */
export function jsonLine(level: Level, msg: string, fields: Record<string, unknown> = {}): string {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  return redactKeys(line);
}

function write(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

/**
 * Sets how `console.*` prints for this isolate (the main thread and each worker call it). In `json`
 * mode `console.log/info/warn/error/debug` print JSON lines on stdout. Idempotent.
 */
export function setupConsole(format: LogFormat): void {
  if (format !== "json" || installed === "json") return;
  installed = "json";
  const levels: Record<string, Level> = {
    log: "info",
    info: "info",
    warn: "warn",
    error: "error",
    debug: "debug",
  };
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      const errors = args.filter((a) => a instanceof Error) as Error[];
      write(jsonLine(level, args.map(text).join(" "), errors.length ? { error: errors[0].message } : {}));
    };
  }
}

/** True when this isolate prints JSON lines. */
export function printsJson(): boolean {
  return installed === "json";
}

/** Prints a finished request as a JSON line (json mode only; a record sink). */
export function printRequest(rec: RequestRecord): void {
  if (installed !== "json") return;
  write(jsonLine(rec.status >= 500 ? "error" : rec.status >= 400 ? "warn" : "info", "request", {
    route: rec.route,
    method: rec.method,
    path: rec.path,
    model: rec.model,
    status: rec.status,
    latencyMs: rec.latencyMs,
    attempts: rec.attempts,
    stream: rec.stream,
    token: rec.tokenName,
    keyId: rec.keyId,
    inputTokens: rec.inputTokens,
    outputTokens: rec.outputTokens,
    error: rec.error,
    source: rec.source,
    refusal: rec.refusal,
    count: rec.count,
  }));
}
