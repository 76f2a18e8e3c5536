import assert from "node:assert/strict";
import { classify } from "../lib/pool/classify.ts";
import { type GoogleErrorBody, parseDuration } from "../lib/gemini/rpc_status.ts";
import { nextPacificMidnight, pacificDay } from "../lib/pool/quota_clock.ts";

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0); // 04:00 in Los Angeles (PST)

function quota429(
  opts: { quotaId: string; quotaValue?: string; retryDelay?: string; message?: string },
): GoogleErrorBody {
  const details: Array<Record<string, unknown>> = [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [{
        quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        quotaId: opts.quotaId,
        quotaDimensions: { location: "global", model: "gemini-2.5-pro" },
        quotaValue: opts.quotaValue ?? "5",
      }],
    },
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [{ description: "x", url: "https://ai.google.dev" }],
    },
  ];
  if (opts.retryDelay) {
    details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: opts.retryDelay });
  }
  return {
    error: {
      code: 429,
      message: opts.message ?? "You exceeded your current quota, please check your plan and billing details.",
      status: "RESOURCE_EXHAUSTED",
      details,
    },
  };
}

const base = { now: NOW, defaultCooldownMs: 60_000 };

Deno.test("429 per minute cools the pair for RetryInfo.retryDelay and learns the limit", () => {
  const v = classify({
    ...base,
    status: 429,
    body: quota429({ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", retryDelay: "37s" }),
  });
  assert.equal(v.kind, "cooldown");
  if (v.kind !== "cooldown") return;
  assert.equal(v.window, "minute");
  assert.equal(v.until, NOW + 37_000);
  assert.equal(v.limit, 5);
});

Deno.test("429 per minute without RetryInfo falls back to the 'Please retry in' text, then the default", () => {
  const body = quota429({
    quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    message: "Quota exceeded.\nPlease retry in 12.5s.",
  });
  const v = classify({ ...base, status: 429, body });
  assert.ok(v.kind === "cooldown" && v.until === NOW + 12_500);
  assert.ok(v.kind === "cooldown" && v.limit === undefined, "a token quota is not a request limit");
  const bare = classify({
    ...base,
    status: 429,
    body: {
      error: {
        code: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        status: "RESOURCE_EXHAUSTED",
      },
    },
  });
  assert.ok(bare.kind === "cooldown" && bare.until === NOW + 60_000);
});

Deno.test("429 per day cools until the next midnight in Los Angeles", () => {
  const v = classify({
    ...base,
    status: 429,
    body: quota429({ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", retryDelay: "20s" }),
  });
  assert.ok(v.kind === "cooldown" && v.window === "day");
  if (v.kind !== "cooldown") return;
  assert.equal(v.until, Date.UTC(2026, 10, 27, 8, 0, 0)); // midnight PST = 08:00 UTC
});

Deno.test("429 with quotaValue 0 means no access to the model", () => {
  const v = classify({
    ...base,
    status: 429,
    body: quota429({ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", quotaValue: "0" }),
  });
  assert.equal(v.kind, "no_access");
});

Deno.test("invalid, expired, suspended, leaked and blocked keys are disabled with Google's reason", () => {
  const invalid: GoogleErrorBody = {
    error: {
      code: 400,
      message: "API key not valid. Please pass a valid API key.",
      status: "INVALID_ARGUMENT",
      details: [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
      }],
    },
  };
  const v = classify({ ...base, status: 400, body: invalid });
  assert.ok(v.kind === "disable" && v.reason.includes("API_KEY_INVALID"));
  const expired = { error: { ...invalid.error, message: "API key expired. Please renew the API key." } };
  assert.equal(classify({ ...base, status: 400, body: expired }).kind, "disable");
  for (
    const message of [
      "Your API key was reported as leaked. Please use another API key.",
      "Permission denied: Consumer 'api_key:x' has been suspended.",
      "Method doesn't allow unregistered callers (callers without established identity).",
    ]
  ) {
    assert.equal(
      classify({ ...base, status: 403, body: { error: { code: 403, message, status: "PERMISSION_DENIED" } } })
        .kind,
      "disable",
      message,
    );
  }
  const blocked: GoogleErrorBody = {
    error: {
      code: 403,
      message: "Requests to this API generativelanguage.googleapis.com method x are blocked.",
      status: "PERMISSION_DENIED",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_SERVICE_BLOCKED" }],
    },
  };
  assert.equal(classify({ ...base, status: 403, body: blocked }).kind, "disable");
});

Deno.test("5xx, 408 are transient; other 4xx are the client's own errors", () => {
  for (const status of [500, 502, 503, 504, 408]) {
    assert.equal(classify({ ...base, status, body: null }).kind, "transient");
  }
  for (const status of [400, 404, 409, 413]) {
    assert.equal(
      classify({
        ...base,
        status,
        body: { error: { code: status, message: "bad", status: "INVALID_ARGUMENT" } },
      }).kind,
      "client_error",
    );
  }
  const filePerm = {
    error: {
      code: 403,
      message: "You do not have permission to access the File abc or it may not exist.",
      status: "PERMISSION_DENIED",
    },
  };
  assert.equal(classify({ ...base, status: 403, body: filePerm }).kind, "client_error");
  assert.equal(classify({ ...base, status: 200, body: null }).kind, "ok");
});

Deno.test("parseDuration reads protobuf durations", () => {
  assert.equal(parseDuration("37s"), 37_000);
  assert.equal(parseDuration("1.25s"), 1250);
  assert.equal(parseDuration("soon"), undefined);
});

Deno.test("Pacific midnight across daylight saving changes", () => {
  // Spring forward: 2026-03-08 02:00 PST -> 03:00 PDT. From 2026-03-07 20:00 PST, midnight is 08:00 UTC on the 8th (PST).
  assert.equal(nextPacificMidnight(Date.UTC(2026, 2, 8, 4, 0)), Date.UTC(2026, 2, 8, 8, 0));
  // From 2026-03-08 12:00 PDT (19:00 UTC), the next midnight is 2026-03-09 00:00 PDT = 07:00 UTC.
  assert.equal(nextPacificMidnight(Date.UTC(2026, 2, 8, 19, 0)), Date.UTC(2026, 2, 9, 7, 0));
  // Fall back: 2026-11-01 02:00 PDT -> 01:00 PST. From 2026-11-01 12:00 PST (20:00 UTC), next midnight is 08:00 UTC on the 2nd.
  assert.equal(nextPacificMidnight(Date.UTC(2026, 10, 1, 20, 0)), Date.UTC(2026, 10, 2, 8, 0));
  // From 2026-10-31 23:30 PDT (06:30 UTC Nov 1), midnight is 2026-11-01 00:00 PDT = 07:00 UTC.
  assert.equal(nextPacificMidnight(Date.UTC(2026, 10, 1, 6, 30)), Date.UTC(2026, 10, 1, 7, 0));
  // Exactly at midnight: the next one, a day later.
  assert.equal(nextPacificMidnight(Date.UTC(2026, 10, 27, 8, 0)), Date.UTC(2026, 10, 28, 8, 0));
  assert.equal(pacificDay(Date.UTC(2026, 10, 27, 7, 59)), "2026-11-26");
  assert.equal(pacificDay(Date.UTC(2026, 10, 27, 8, 0)), "2026-11-27");
});
