import assert from "node:assert/strict";
import { errorFrom } from "../lib/admin/api_client.ts";
import type { ApiKey, MetricsResponse, SettingField } from "../lib/admin/api_types.ts";
import { formatLatency, formatPercent } from "../lib/admin/format.ts";
import { activeCooldowns, effectiveState } from "../lib/admin/key_format.ts";
import { keyQueryParams, parseKeyQuery } from "../lib/admin/key_query.ts";
import { summarize } from "../lib/admin/metrics_summary.ts";
import { groupSettings } from "../lib/admin/settings_groups.ts";
import { describeSettings, settingLabel } from "../lib/config/describe.ts";
import { startSettingsSchema } from "../lib/config/schema.ts";
import { settingsSchema } from "../lib/settings_schema.ts";
import { draftOf, parseDraft } from "../lib/admin/ui/setting_input.tsx";
import { prettyError } from "../lib/admin/ui/log_table.tsx";

const key = (id: string, over: Partial<ApiKey> = {}): ApiKey => ({
  id,
  masked: `AIza…${id}`,
  state: "active",
  cooldowns: [],
  quota: [],
  addedAt: 0,
  usageToday: { requests: 0, ok: 0, rateLimited: 0, errors: 0, inputTokens: 0, outputTokens: 0 },
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
    label: "X",
    description: "",
    type,
    default: null,
    group: "models",
    secret: false,
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
});

Deno.test("settings labels: acronyms and units read as people write them", () => {
  assert.equal(settingLabel("upstreamBaseUrl"), "Upstream base URL");
  assert.equal(settingLabel("requestTimeoutMs"), "Request timeout (ms)");
  assert.equal(settingLabel("maxAttempts"), "Max attempts");
  const labels = Object.fromEntries(describeSettings(settingsSchema).map((s) => [s.name, s.label]));
  assert.equal(labels.corsOrigins, "CORS origins");
  assert.equal(labels.ttsModel, "TTS model");
  assert.equal(labels.ttsHdModel, "TTS HD model");
  assert.equal(labels.urlContextModels, "URL context models");
  assert.equal(labels.thoughtSignatureTtlHours, "Thought signature TTL (hours)");
  assert.equal(
    describeSettings(startSettingsSchema).find((s) => s.name === "geminiApiKeys")?.label,
    "Gemini API keys",
  );
});

Deno.test("settings sections: fields are shown in the section their schema names, in table order", () => {
  const fields = [
    { name: "maxAttempts", group: "upstream" as const },
    { name: "aliases", group: "models" as const },
    { name: "logRetentionHours", group: "logs" as const },
    { name: "smootherChunkChars", group: "streaming" as const },
    { name: "proxies", group: "upstream" as const },
    { name: "allowedTokens", group: "access" as const },
  ];
  assert.deepEqual(
    groupSettings(fields).map((g) => [g.id, g.section.title, g.items.map((i) => i.name)]),
    [
      ["access", "Access", ["allowedTokens"]],
      ["upstream", "Upstream and retries", ["maxAttempts", "proxies"]],
      ["models", "Models and features", ["aliases"]],
      ["streaming", "Streaming", ["smootherChunkChars"]],
      ["logs", "Logging", ["logRetentionHours"]],
    ],
  );
});

Deno.test("settings sections: every run-time setting names a section the form has", () => {
  const fields = describeSettings(settingsSchema);
  const shown = groupSettings(fields).flatMap((g) => g.items.map((i) => i.name));
  assert.deepEqual(shown.toSorted(), fields.map((f) => f.name).toSorted());
  assert.equal(fields.find((f) => f.name === "allowPrivateImageHosts")?.group, "models");
  assert.equal(fields.find((f) => f.name === "proxyDownMs")?.group, "upstream");
});

Deno.test("dashboard numbers: rate per minute, success and request-weighted percentiles", () => {
  const bucket = (requests: number, p50: number | null) => ({
    t: 0,
    requests,
    ok: requests,
    errors: 0,
    refused: 0,
    clientErrors: 0,
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
    refusals: [],
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
});

Deno.test("log detail: JSON error bodies are pretty-printed, other text is kept", () => {
  assert.equal(prettyError('{"error":{"code":429}}'), '{\n  "error": {\n    "code": 429\n  }\n}');
  assert.equal(prettyError("upstream timed out"), "upstream timed out");
});
