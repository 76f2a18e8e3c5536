/**
 * The request log's entry encoder (`lib/logs/entry_bytes.ts`) writes each entry's UTF-8 JSON bytes
 * by hand: its bytes must be exactly those of the entry object through `JSON.stringify` (the masked
 * key last, as ASCII), for records of every shape (non-ASCII text, masked keys with "…", error texts
 * that need escapes, attempts, Live API stats, refusals, missing fields, odd numbers), and the log
 * store must give every entry back whole.
 */
import assert from "node:assert/strict";
import { EntryBuffer, type EntryExtras, LogEntryFields } from "../lib/logs/entry_bytes.ts";
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

/** The stored entry of `rec` with `x`, as an object (what `JSON.parse` of its bytes must give). */
function entryOf(rec: RequestRecord, x: EntryExtras): LogEntry {
  const entry: LogEntry = {
    ...rec,
    id: `${rec.time.toString(36).padStart(9, "0")}-${(x.random >>> 0).toString(16).padStart(8, "0")}`,
    error: x.error,
    keyMasked: x.keyMasked,
    expiresAt: x.expiresAt,
  };
  for (const k of Object.keys(entry) as Array<keyof LogEntry>) if (entry[k] === undefined) delete entry[k];
  return entry;
}

/**
 * The entry's JSON the way the store wrote it before the encoder: the entry object with its fields in
 * the stored order through `JSON.stringify`, the masked key taken out and appended last as ASCII.
 */
function oldJson(rec: RequestRecord, x: EntryExtras): string {
  const e = entryOf(rec, x) as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const f of LogEntryFields) if (f !== "keyMasked") ordered[f] = e[f];
  const text = JSON.stringify(ordered);
  if (x.keyMasked === undefined) return text;
  const masked = JSON.stringify(x.keyMasked).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${text.slice(0, -1)},"keyMasked":${masked}}`;
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

const decoder = new TextDecoder();

Deno.test("log entry bytes: each entry's bytes are exactly its JSON (masked key last, in ASCII), UTF-8 encoded", () => {
  const buf = new EntryBuffer();
  for (const [, rec, x] of CASES) buf.add(rec, x);
  CASES.forEach(([name, rec, x], i) => {
    const bytes = buf.bytes.slice(buf.start(i), buf.end(i));
    const expected = oldJson(rec, x);
    assert.equal(decoder.decode(bytes), expected, name);
    assert.deepEqual(bytes, new TextEncoder().encode(expected), `${name}: the UTF-8 bytes`);
    assert.deepEqual(
      JSON.parse(decoder.decode(bytes)),
      JSON.parse(JSON.stringify(entryOf(rec, x))),
      `${name}: every field of the record, once`,
    );
    assert.equal(buf.time(i), rec.time);
    assert.equal(buf.status(i), rec.status);
    assert.equal(buf.expiresAt(i), x.expiresAt);
  });
});

Deno.test("log entry bytes: the buffer grows past its first size and copies entries between buffers whole", () => {
  const buf = new EntryBuffer();
  const n = 2_000;
  for (let i = 0; i < n; i++) buf.add(FULL, { random: i, keyMasked: "AIza…k9Xw", expiresAt: NOW + i });
  const copy = new EntryBuffer();
  for (let i = n - 1; i >= 0; i--) copy.copy(buf, i, i % 2 === 0);
  for (let i = 0; i < n; i++) {
    const j = n - 1 - i;
    assert.equal(
      decoder.decode(copy.bytes.subarray(copy.start(i), copy.end(i))),
      oldJson(FULL, { random: j, keyMasked: "AIza…k9Xw", expiresAt: NOW + j }),
    );
    assert.equal(copy.inRequestLog(i), j % 2 === 0);
    assert.equal(copy.expiresAt(i), NOW + j);
  }
  buf.clear();
  assert.equal(buf.count, 0);
  buf.add(FULL, { random: 1, expiresAt: NOW });
  assert.equal(
    decoder.decode(buf.bytes.subarray(buf.start(0), buf.end(0))),
    oldJson(FULL, { random: 1, expiresAt: NOW }),
  );
});

Deno.test("log entry bytes: the log store gives every entry back as recorded, in both logs", async () => {
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
