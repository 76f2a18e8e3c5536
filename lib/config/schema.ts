/**
 * The settings contract: one zod schema, every field described. Settings come from three layers:
 * a value set in the environment pins the setting (it wins and is read-only in the admin panel);
 * otherwise the value stored in KV (edited in the admin panel) applies; otherwise the default.
 * The start settings are read once from the environment and never stored. Each field's section and
 * secrecy are registered in `settingMeta` (see `describe.ts`).
 *
 * @module
 */
import { z } from "zod";
import { type SettingMeta, settingMeta } from "./describe.ts";
import { KIND_ROUTINGS } from "../pool/kind_routing.ts";
import { parseCidr } from "../net/ip.ts";
import { EXAMPLE_KEY, joinKeyEntries, keyEntryProblem } from "../pool/key_record.ts";
import { maskKey } from "../secrets/redact.ts";

/** Comma, space or newline separated list, as accepted by list settings in the environment. */
export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

const positiveMs = (d: number, what: string, meta: SettingMeta) =>
  z.number().int().min(0).default(d).describe(what).register(settingMeta, meta);

/** Settings that can change at run time (stored in KV, editable in the admin panel). */
export const runtimeSettingsSchema = z.object({
  allowedTokens: z.array(z.string().min(8, "a client token needs at least 8 characters"))
    .default([])
    .describe(
      "Client tokens the gateway accepts (Authorization: Bearer, x-goog-api-key, x-api-key or ?key=); at least 8 " +
        "characters each. Logs and usage name each token-<its last 4 characters>-<the start of its SHA-256>.",
    )
    .register(settingMeta, { group: "access", secret: true, example: "my-client-token" }),
  trustedProxies: z.array(
    z.string().trim().refine((s) => parseCidr(s) !== undefined, {
      message: "give IP addresses or CIDR ranges, e.g. 127.0.0.1, 10.0.0.0/8, ::1",
    }),
  ).default([])
    .describe(
      "Reverse proxies (IP addresses or CIDR ranges, e.g. 127.0.0.1, 10.0.0.0/8) whose X-Forwarded-For is " +
        "believed: a request from one of them counts as coming from the last address before them in that " +
        "header (failed admin logins are slowed down, failed client tokens throttled and requests logged " +
        "per client address). Empty: the connecting address.",
    )
    .register(settingMeta, { group: "access", example: "127.0.0.1,10.0.0.0/8" }),
  authFailuresPerMinute: z.number().int().min(0).default(30)
    .describe(
      "Failed client-token checks allowed per client address and minute; then that address gets 429 without a check until the minute passes (0 = no limit).",
    )
    .register(settingMeta, { group: "access" }),
  corsOrigins: z.array(
    z.string().trim().refine((o) => o === "*" || /^https?:\/\/[^/\s]+\/?$/.test(o), {
      message: "an origin is * or scheme://host[:port], e.g. https://app.example.com",
    }),
  ).default(["*"])
    .describe(
      "Web page origins allowed to call the API routes from a browser (CORS), e.g. https://app.example.com; " +
        "* allows any, an empty list none. Never applies to /admin.",
    )
    .register(settingMeta, { group: "access" }),
  upstreamBaseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .default("https://generativelanguage.googleapis.com")
    .describe("Where Gemini requests go.")
    .register(settingMeta, { group: "upstream" }),
  vertexBaseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .default("https://aiplatform.googleapis.com")
    .describe("Where requests served by Vertex AI express keys go.")
    .register(settingMeta, { group: "upstream" }),
  keyKindRouting: z.enum(KIND_ROUTINGS).default("mix")
    .describe(
      "How model calls choose between Gemini API keys and Vertex AI express keys: mix (one round robin over " +
        "both), gemini_first or vertex_first (the other kind only when no key of the first can serve). " +
        "Requests Vertex express cannot serve (files, caches, batches, ...) always go to Gemini API keys.",
    )
    .register(settingMeta, { group: "keys" }),
  maxAttempts: z.number().int().min(1).max(20).default(5)
    .describe("How many keys one request may try before giving up.")
    .register(settingMeta, { group: "upstream" }),
  requestTimeoutMs: positiveMs(
    600_000,
    "Longest wait, in one attempt, for the upstream's answer to start (its headers; for a stream, its first bytes). Long enough for Gemini 3 Pro thinking calls of several minutes; after it the request ends with 504 and is not sent again (see RESEND_AFTER_TIMEOUT).",
    { group: "upstream" },
  ),
  idleTimeoutMs: positiveMs(
    120_000,
    "Longest pause between bytes of an upstream answer once its headers arrived, unary and streamed (0 = no limit). A stalled answer then ends with an error the client sees and the key is charged a transient failure.",
    { group: "upstream" },
  ),
  requestDeadlineMs: positiveMs(
    900_000,
    "Overall deadline of one request across all its attempts and waits, until its answer starts (a unary answer: until it is read). Streams are then judged by IDLE_TIMEOUT_MS only.",
    { group: "upstream" },
  ),
  resendAfterTimeout: z.boolean().default(false)
    .describe(
      "Send a request again to another key after the upstream timed out (REQUEST_TIMEOUT_MS or IDLE_TIMEOUT_MS). Off by default: the first call may still be generating, and paying for it twice gives the client nothing.",
    )
    .register(settingMeta, { group: "upstream" }),
  answerBufferBytes: z.number().int().min(0).default(16 * 1024 * 1024)
    .describe(
      "Unary answers up to this size are read whole before the client sees them, so that a connection that breaks mid-answer is retried on another key; larger ones are streamed through as they arrive on the native route, and refused with 502 on the translating routes (OpenAI, Anthropic), which must hold an answer whole (memory per request stays below this bound).",
    )
    .register(settingMeta, { group: "upstream" }),
  clientBodyTimeoutMs: positiveMs(
    60_000,
    "Longest time a client may take to send its request body (0 = no limit); slower bodies are cut with 408.",
    { group: "upstream" },
  ),
  maxBodyBytes: z.number().int().min(1024).default(32 * 1024 * 1024)
    .describe("Largest request body accepted; larger ones get 413.")
    .register(settingMeta, { group: "upstream" }),
  defaultCooldownMs: positiveMs(60_000, "Cooldown after a 429 that names no retry delay.", { group: "keys" }),
  maxWaitMs: positiveMs(3_000, "When every key is cooling down, wait up to this long for one to free up.", {
    group: "keys",
  }),
  transientBackoffMaxMs: positiveMs(60_000, "Longest backoff for a key whose calls keep failing with 5xx.", {
    group: "keys",
  }),
  quotaWindowMs: z.number().int().min(1000).default(60_000)
    .describe("Length of Google's per-minute quota window (60000); shorter only for simulations.")
    .register(settingMeta, { group: "keys" }),
  recheckIntervalMs: positiveMs(
    15 * 60_000,
    "How often disabled and no-access keys are re-checked (0 = never).",
    { group: "keys" },
  ),
  allowPrivateImageHosts: z.boolean().default(false)
    .describe(
      "Let image URLs in OpenAI chat prompts reach non-public addresses (loopback, private, link-local, " +
        "100.64.0.0/10 and other special ranges; an SSRF risk, off by default).",
    )
    .register(settingMeta, { group: "models" }),
  logsEnabled: z.boolean().default(true).describe("Keep a request log.")
    .register(settingMeta, { group: "logs" }),
  webhookUrl: z.string().trim().refine(
    (v) => v === "" || /^https?:\/\/[^\s/]+/.test(v),
    "must be an http(s) URL, or empty for no notifications",
  ).default("")
    .describe(
      "Webhook for operator notifications (JSON POST, retried with backoff): a key disabled, a model with no usable key, a client token at its daily quota. Empty = off.",
    )
    .register(settingMeta, {
      group: "reporting",
      secret: true,
      example: "https://hooks.example.com/gateway",
    }),
  prices: z.record(
    z.string(),
    z.object({
      input: z.number().min(0, "a price cannot be negative"),
      output: z.number().min(0, "a price cannot be negative"),
    }),
  ).default({})
    .describe(
      "Prices for the cost estimate on the dashboard, per model (exact id or prefix*, the longest match wins), in your currency per million input and output tokens. Empty = no estimate.",
    )
    .register(settingMeta, {
      group: "reporting",
      example: '{"gemini-2.5-flash": {"input": 0.3, "output": 2.5}}',
    }),
  logRetentionHours: z.number().min(1).max(24 * 90).default(72).describe("How long log entries are kept.")
    .register(settingMeta, { group: "logs" }),
});

/** Settings read once at start from the environment only. */
export const startSettingsSchema = z.object({
  port: z.number().int().min(0).max(65535).default(8000).describe("Port to listen on.")
    .register(settingMeta, { group: "server" }),
  host: z.string().default("0.0.0.0")
    .describe(
      "Interface to listen on; the default 0.0.0.0 is every interface (127.0.0.1: this machine only).",
    )
    .register(settingMeta, { group: "server" }),
  geminiApiKeys: z.array(z.string())
    .superRefine((given, ctx) => {
      let entries: string[];
      try {
        entries = joinKeyEntries(given);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
        return;
      }
      // The same rule as keys pasted in the admin panel.
      for (const entry of entries) {
        const problem = keyEntryProblem(entry);
        if (problem) ctx.addIssue({ code: "custom", message: `${maskKey(entry)} ${problem}` });
      }
    })
    .default([])
    .describe(
      "API keys added to the pool at start (AIza followed by 35 characters, or AQ.…); write a Vertex AI express key as vertex:<key>.",
    )
    .register(settingMeta, { group: "keys", secret: true, example: EXAMPLE_KEY }),
  adminToken: z.string().min(12, "the admin token needs at least 12 characters").optional()
    .describe("Token for the admin panel (at least 12 characters); generated at first start when unset.")
    .register(settingMeta, { group: "access", secret: true, example: "a-long-admin-secret" }),
  kvPath: z.string().default("./data/gateway.sqlite3")
    .describe("Deno KV location: a file path, :memory:, or a KV Connect URL.")
    .register(settingMeta, { group: "server" }),
  shutdownGraceMs: positiveMs(10_000, "On SIGTERM, how long streams in flight may continue.", {
    group: "server",
  }),
  syncIntervalMs: positiveMs(2_000, "How often to poll KV for changes made by other processes.", {
    group: "server",
  }),
});

/** Settings that can change at run time. */
export type RuntimeSettings = z.infer<typeof runtimeSettingsSchema>;
/** Settings fixed at start. */
export type StartSettings = z.infer<typeof startSettingsSchema>;
