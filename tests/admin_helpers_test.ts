import assert from "node:assert/strict";
import { errorFrom } from "../lib/admin/api_client.ts";
import type { ApiKey, MetricsResponse, SettingField } from "../lib/admin/api_types.ts";
import { formatLatency, formatPercent, formatRelative } from "../lib/admin/format.ts";
import { activeCooldowns, effectiveState } from "../lib/admin/key_format.ts";
import { keyQueryParams, parseKeyQuery, queryKeys } from "../lib/admin/key_query.ts";
import { summarize } from "../lib/admin/metrics_summary.ts";
import { groupSettings } from "../lib/admin/settings_groups.ts";
import { draftOf, humanize, parseDraft } from "../lib/admin/ui/setting_input.tsx";
import { prettyError } from "../lib/admin/ui/log_table.tsx";

const key = (id: string, over: Partial<ApiKey> = {}): ApiKey => ({
  id,
  masked: `AIza…${id}`,
  state: "active",
  cooldowns: [],
  ...over,
});

Deno.test("key query: URL parameters are read with safe defaults and written back without them", () => {
  assert.deepEqual(parseKeyQuery({}), { search: "", state: "", sort: "added", offset: 0, limit: 50 });
  const q = parseKeyQuery({
    search: "prod",
    state: "cooling",
    sort: "requests",
    offset: "100",
    limit: "200",
  });
  assert.deepEqual(q, { search: "prod", state: "cooling", sort: "requests", offset: 100, limit: 200 });
  assert.deepEqual(keyQueryParams(q), {
    search: "prod",
    state: "cooling",
    sort: "requests",
    offset: "100",
    limit: "200",
  });
  const odd = parseKeyQuery({ state: "bogus", sort: "drop table", offset: "-5", limit: "100000" });
  assert.deepEqual(odd, { search: "", state: "", sort: "added", offset: 0, limit: 50 });
  assert.deepEqual(keyQueryParams(odd), {});
});

Deno.test("key query: filter, search, sort and page an in-memory list like GET /keys", () => {
  const all = [
    key("a", {
      label: "Prod",
      addedAt: 3,
      usageToday: { requests: 5, ok: 5, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 },
    }),
    key("b", { state: "disabled", disabledReason: "API key invalid", addedAt: 1 }),
    key("c", { state: "cooling", label: "prod batch", addedAt: 2 }),
  ];
  const page = queryKeys(all, parseKeyQuery({ search: "PROD" }));
  assert.deepEqual(
    page.keys.map((k) => k.id),
    ["c", "a"],
    "search is case-insensitive, sorted by date added",
  );
  assert.equal(page.total, 2);
  assert.deepEqual(page.counts, { active: 1, cooling: 1, disabled: 1 }, "counts cover the whole pool");
  assert.deepEqual(queryKeys(all, parseKeyQuery({ search: "invalid" })).keys.map((k) => k.id), ["b"]);
  assert.deepEqual(queryKeys(all, parseKeyQuery({ sort: "state" })).keys.map((k) => k.id), ["b", "c", "a"]);
  assert.deepEqual(queryKeys(all, parseKeyQuery({ sort: "requests" })).keys[0].id, "a");
  const paged = queryKeys(all, { ...parseKeyQuery({}), offset: 2, limit: 25 });
  assert.deepEqual(paged.keys.map((k) => k.id), ["a"]);
  assert.equal(paged.total, 3);
});

Deno.test("cooldowns: an ended cooldown shows the key as active; null never ends", () => {
  const k = key("a", {
    state: "cooling",
    cooldowns: [
      { model: "x", until: 2000, kind: "minute", reason: "" },
      { model: "y", until: null, kind: "no_access", reason: "" },
    ],
  });
  assert.deepEqual(activeCooldowns(k, 1000).map((c) => c.model), ["x", "y"]);
  assert.deepEqual(activeCooldowns(k, 3000).map((c) => c.model), ["y"]);
  assert.equal(effectiveState(k, 3000), "cooling");
  assert.equal(effectiveState({ state: "cooling", cooldowns: [{ until: 2000 }] }, 3000), "active");
  assert.equal(effectiveState({ state: "disabled", cooldowns: [] }, 3000), "disabled");
});

Deno.test("API errors: message and google.rpc.BadRequest field violations are read", () => {
  const err = errorFrom(400, {
    error: {
      code: 400,
      message: "maxAttempts: too small",
      details: [{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        fieldViolations: [{ field: "maxAttempts", description: "too small" }, { nope: 1 }],
      }],
    },
  });
  assert.equal(err.message, "maxAttempts: too small");
  assert.deepEqual(err.violations, [{ field: "maxAttempts", description: "too small" }]);
  assert.match(errorFrom(403, "<html>").message, /CSRF/);
  assert.match(errorFrom(500, null).message, /HTTP 500/);
});

Deno.test("settings form: drafts round-trip per type; bad JSON and numbers are caught before saving", () => {
  const field = (type: SettingField["type"], value: unknown): SettingField => ({
    name: "x",
    env: "X",
    description: "",
    type,
    default: null,
    value,
    pinned: false,
  });
  const cases: Array<[SettingField["type"], unknown]> = [
    ["number", 5],
    ["boolean", true],
    ["string", "a b"],
    ["string[]", ["a", "b"]],
    ["json", { "gpt-4o": "gemini-2.5-flash" }],
    ["enum", "low"],
  ];
  for (const [type, value] of cases) {
    const f = field(type, value);
    assert.deepEqual(parseDraft(f, draftOf(f)), { value }, type);
  }
  assert.deepEqual(parseDraft(field("string[]", []), "a, b\nc\n\n"), { value: ["a", "b", "c"] });
  assert.ok("error" in parseDraft(field("json", {}), "{oops"));
  assert.ok("error" in parseDraft(field("number", 1), "ten"));
  assert.ok("error" in parseDraft(field("number", 1), ""));
  assert.equal(humanize("upstreamBaseUrl"), "Upstream base URL");
  assert.equal(humanize("requestTimeoutMs"), "Request timeout (ms)");
});

Deno.test("settings sections: every field lands in one section, unknown ones in Other", () => {
  const names = [
    "maxAttempts",
    "aliases",
    "logRetentionHours",
    "smootherChunkChars",
    "brandNewThing",
    "allowedTokens",
  ];
  const groups = groupSettings(names.map((name) => ({ name })));
  assert.deepEqual(
    groups.map((g) => [g.group.id, g.items.map((i) => i.name)]),
    [
      ["access", ["allowedTokens"]],
      ["upstream", ["maxAttempts"]],
      ["models", ["aliases"]],
      ["streaming", ["smootherChunkChars"]],
      ["logs", ["logRetentionHours"]],
      ["other", ["brandNewThing"]],
    ],
  );
});

Deno.test("dashboard numbers: rate per minute, success and request-weighted percentiles", () => {
  const bucket = (requests: number, p50: number | null) => ({
    t: 0,
    requests,
    ok: requests,
    errors: 0,
    rateLimited: 0,
    inputTokens: 10,
    outputTokens: 20,
    p50,
    p95: p50,
    p99: p50,
  });
  const m: MetricsResponse = {
    range: "1h",
    bucketMs: 60_000,
    buckets: [bucket(0, null), bucket(30, 100), bucket(10, 500)],
    byModel: [],
    keys: { active: 1, cooling: 0, disabled: 0 },
  };
  const s = summarize(m);
  assert.equal(s.requests, 40);
  assert.equal(s.perMinute, 40 / 3);
  assert.equal(s.latestPerMinute, 10);
  assert.equal(s.p50, 200);
  assert.equal(s.inputTokens, 30);
  assert.equal(summarize({ ...m, buckets: [bucket(0, null)] }).p50, null);
  assert.equal(formatPercent(0, 0), "—");
  assert.equal(formatPercent(39, 40), "97.5%");
  assert.equal(formatLatency(850), "850 ms");
  assert.equal(formatLatency(2400), "2.40 s");
  assert.equal(formatRelative(3 * 86_400_000, 0), "in 3 d");
});

Deno.test("log detail: JSON error bodies are pretty-printed, other text is kept", () => {
  assert.equal(prettyError('{"error":{"code":429}}'), '{\n  "error": {\n    "code": 429\n  }\n}');
  assert.equal(prettyError("upstream timed out"), "upstream timed out");
});
