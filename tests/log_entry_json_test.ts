/**
 * The request log's entry encoder (`lib/logs/entry_json.ts`) writes each entry's JSON by hand from
 * cached pieces: its text must be exactly that of the entry object through `JSON.stringify` (the
 * masked key last, as ASCII), for entries of every shape (non-ASCII text, masked keys with "…", error texts
 * that need escapes, attempts, Live API stats, refusals, missing fields, odd numbers), and the log
 * store must give every entry back whole.
 */
import assert from "node:assert/strict";
import { entryJson, LOG_ENTRY_ORDER } from "../lib/logs/entry_json.ts";
import { type LogEntry, LogStore } from "../lib/logs/log_store.ts";
import type { AttemptRecord, LiveSessionStats, RequestRecord } from "../lib/pipeline/request_record.ts";

const NOW = 1_700_000_000_000;

/** Every field of a record, so that a field added to `RequestRecord` must be added here (and is then checked). */
const FULL: Required<RequestRecord> = {
  time: NOW - 5_000,
  route: "openai",
  method: "POST",
  path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
  clientMethod: "POST",
  clientPath: "/v1/chat/completions",
  clientModel: "gemini-2.5-flash-thinking-high",
  model: "gemini-2.5-flash",
  keyId: "k9a8b7c6",
  tokenName: "team-a",
  status: 503,
  latencyMs: 1234,
  attempts: 2,
  stream: true,
  inputTokens: 17,
  outputTokens: 4096,
  error: 'Google said: "The model is overloaded." \\ try later\n\ttab',
  tries: [
    { keyId: "k1111111", status: 429, reason: "Resource has been exhausted (e.g. check quota).", ms: 12 },
    { keyId: "k9a8b7c6", status: 503, reason: 'surchargé — 过载 "quoted"', ms: 0 },
  ] satisfies Required<AttemptRecord>[],
  live: {
    durationMs: 60_000,
    turns: 3,
    closeCode: 1000,
    closeReason: "client said bye 👋",
    closedBy: "client",
    goAway: true,
    resumed: false,
  } satisfies Required<LiveSessionStats>,
  source: "2001:db8::1",
  outcome: "error",
  refusal: "token_rate_limit",
  count: 7,
};

/** What the store adds to a record: the id's random part, the masked key, the stored error, the expiry. */
interface EntryExtras {
  random: number;
  keyMasked?: string;
  error?: string;
  expiresAt: number;
}

const idOf = (time: number, random: number) =>
  `${time.toString(36).padStart(9, "0")}-${(random >>> 0).toString(16).padStart(8, "0")}`;

/** The entry the store builds for `rec`, as it always did: every field, undefined ones included. */
function storedEntry(rec: RequestRecord, x: EntryExtras): LogEntry {
  return {
    id: idOf(rec.time, x.random),
    time: rec.time,
    route: rec.route,
    method: rec.method,
    path: rec.path,
    clientMethod: rec.clientMethod,
    clientPath: rec.clientPath,
    clientModel: rec.clientModel,
    model: rec.model,
    keyId: rec.keyId,
    keyMasked: x.keyMasked,
    tokenName: rec.tokenName,
    status: rec.status,
    latencyMs: rec.latencyMs,
    attempts: rec.attempts,
    stream: rec.stream,
    inputTokens: rec.inputTokens,
    outputTokens: rec.outputTokens,
    error: x.error,
    live: rec.live,
    source: rec.source,
    outcome: rec.outcome,
    refusal: rec.refusal,
    count: rec.count,
    tries: rec.tries,
    expiresAt: x.expiresAt,
  };
}

/** Every field of the record with what the store adds (undefined ones left out): what `JSON.parse` must give. */
function entryOf(rec: RequestRecord, x: EntryExtras): LogEntry {
  const entry: LogEntry = {
    ...rec,
    id: idOf(rec.time, x.random),
    error: x.error,
    keyMasked: x.keyMasked,
    expiresAt: x.expiresAt,
  };
  for (const k of Object.keys(entry) as Array<keyof LogEntry>) if (entry[k] === undefined) delete entry[k];
  return entry;
}

/**
 * The entry's JSON the way the store wrote it before this encoder: `JSON.stringify` of the entry,
 * the masked key taken out and appended last in ASCII.
 */
function oldJson(entry: LogEntry): string {
  const e = { ...entry };
  const masked = e.keyMasked;
  if (masked === undefined) return JSON.stringify(e);
  e.keyMasked = undefined;
  const json = JSON.stringify(masked).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${JSON.stringify(e).slice(0, -1)},"keyMasked":${json}}`;
}

const without = (rec: RequestRecord, ...fields: Array<keyof RequestRecord>): RequestRecord => {
  const copy = { ...rec };
  for (const f of fields) delete copy[f];
  return copy;
};

/** Records of every shape, each with the extras the store adds. */
const CASES: Array<[string, RequestRecord, EntryExtras]> = [
  ["every field", FULL, {
    random: 0xdeadbeef,
    keyMasked: "AIza…k9Xw",
    error: FULL.error,
    expiresAt: NOW + 3_600_000,
  }],
  [
    "a served native request",
    without(FULL, "error", "live", "refusal", "count", "clientModel"),
    { random: 1, keyMasked: "AIza…bbbb", expiresAt: NOW + 86_400_000 },
  ],
  [
    "non-ASCII and escapes in every string",
    {
      ...FULL,
      route: "gémini",
      path: "/v1beta/ü/文件/\u0000\u001f\u007f",
      clientPath: '/v1/😀?q="x"',
      model: "model\\with\\backslashes",
      tokenName: "équipe-☃",
      source: "\ud800 lone surrogate \udfff",
      tries: [{ keyId: "k\u2028", status: 500, reason: "line\u2029sep", ms: 3 }],
    },
    {
      random: 0xffffffff,
      keyMasked: "vertex:AQ.A…zz01",
      error: 'Quota épuisé — 配额 "x" \r\n',
      expiresAt: NOW + 1,
    },
  ],
  ['a masked key that is only "…"', FULL, { random: 0, keyMasked: "…", expiresAt: NOW }],
  ["a masked key with Latin-1 letters", FULL, { random: 43, keyMasked: "clé·…ü", expiresAt: NOW }],
  ["a masked key of plain ASCII", FULL, { random: 42, keyMasked: "AIza...k9Xw", expiresAt: NOW }],
  ["a masked key with quotes", FULL, { random: 42, keyMasked: 'AIza"…\\', expiresAt: NOW }],
  [
    "a refusal before any key (no key, no model, no attempts)",
    without(FULL, "keyId", "model", "clientModel", "tries", "inputTokens", "outputTokens", "live", "error"),
    { random: 7, expiresAt: NOW + 3_600_000 },
  ],
  [
    "the fewest fields",
    {
      time: NOW,
      route: "gemini",
      method: "GET",
      path: "/v1beta/models",
      status: 200,
      latencyMs: 0,
      attempts: 0,
      stream: false,
    },
    { random: 123_456, expiresAt: NOW + 3_600_000 },
  ],
  [
    "odd numbers (fractions, negatives, huge, not finite)",
    {
      ...FULL,
      status: Number.NaN,
      latencyMs: 12.5,
      attempts: -1,
      inputTokens: 2 ** 60,
      outputTokens: Infinity,
      count: -0,
      tries: [{ keyId: "k", status: 0, reason: "", ms: 1e21 }],
    },
    { random: 99, keyMasked: "AIza…k9Xw", expiresAt: NOW + 0.25 },
  ],
  ["an early time (its id's base-36 digits padded)", { ...FULL, time: 35 }, { random: 5, expiresAt: 10 }],
  ["a fractional time (its id as the formula writes it)", { ...FULL, time: NOW + 0.5 }, {
    random: 5,
    expiresAt: NOW,
  }],
  [
    "a long error",
    FULL,
    { random: 3, keyMasked: "AIza…k9Xw", error: "é".repeat(8_000), expiresAt: NOW + 3_600_000 },
  ],
];

Deno.test("log entry JSON: each entry's text is exactly the entry through JSON.stringify (masked key last, in ASCII)", () => {
  for (const [name, rec, x] of CASES) {
    const entry = storedEntry(rec, x);
    const { head, tail } = entryJson(entry);
    const expected = oldJson(entry);
    assert.equal(head + tail, expected, name);
    assert.deepEqual(
      new TextEncoder().encode(head + tail),
      new TextEncoder().encode(expected),
      `${name}: the UTF-8 bytes`,
    );
    assert.deepEqual(
      JSON.parse(head + tail),
      JSON.parse(JSON.stringify(entryOf(rec, x))),
      `${name}: every field of the record, once`,
    );
    assert.match(tail, /^[\x20-\x7e]*}$/, `${name}: the tail is ASCII`);
  }
  // The same pieces again (now cached) give the same text.
  for (const [name, rec, x] of CASES) {
    const { head, tail } = entryJson(storedEntry(rec, x));
    assert.equal(head + tail, oldJson(storedEntry(rec, x)), `${name}, again`);
  }
});

Deno.test("log entry JSON: the written order names every field of an entry", () => {
  const fields = new Set<string>(LOG_ENTRY_ORDER);
  const every = Object.keys(storedEntry(FULL, { random: 1, keyMasked: "k", error: "e", expiresAt: 1 }));
  assert.deepEqual(every.filter((f) => f !== "keyMasked" && !fields.has(f)), []);
  assert.deepEqual(
    Object.keys(entryOf(FULL, { random: 1, keyMasked: "k", error: "e", expiresAt: 1 })).sort(),
    [...every].sort(),
  );
});

Deno.test("log entry JSON: the log store gives every entry back as recorded, in both logs", async () => {
  const kv = await Deno.openKv(":memory:");
  const masks: Record<string, string> = { k9a8b7c6: "AIza…k9Xw" };
  const logs = new LogStore({
    kv,
    settings: () => ({ logsEnabled: true, logRetentionHours: 1 }),
    now: () => NOW,
    maskKey: (id) => masks[id],
    redact: (text) => text.replaceAll("secret", "[redacted]"),
  });
  try {
    const recs = CASES.map(([, rec], i) => ({
      ...rec,
      time: NOW - 1_000 + i,
      error: rec.error && `${rec.error} secret`,
    }));
    for (const rec of recs) logs.record(rec);
    const back = (await logs.query({ limit: 500 })).entries.reverse();
    assert.equal(back.length, recs.length);
    back.forEach((e, i) => {
      const rec = recs[i];
      assert.match(e.id, /^[0-9a-z]{9}-[0-9a-f]{8}$/);
      const x: EntryExtras = {
        random: parseInt(e.id.slice(10), 16),
        keyMasked: rec.keyId ? masks[rec.keyId] : undefined,
        error: rec.error?.replaceAll("secret", "[redacted]").slice(0, 8_000),
        expiresAt: NOW + 3_600_000,
      };
      assert.deepEqual(e, JSON.parse(JSON.stringify(entryOf(rec, x))), CASES[i][0]);
    });
    const errors = (await logs.query({ kind: "error", limit: 500 })).entries.reverse();
    assert.deepEqual(errors, back.filter((e) => e.status >= 400));
  } finally {
    await logs.close();
    kv.close();
  }
});
