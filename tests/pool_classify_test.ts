import assert from "node:assert/strict";
import { CLASSIFICATION, classify } from "../lib/pool/classify.ts";
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
  const invalid: GoogleErrorBody = REAL.apiKeyInvalid;
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

Deno.test("5xx (but 503), 408 are transient; other 4xx are the client's own errors", () => {
  // 503 is Google's capacity (its own row below), no longer a transient failure of the key.
  for (const status of [500, 502, 504, 408]) {
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

/** Google's bodies, as they come (wire reference part D, docs/wire_notes.md). */
const REAL = {
  ok: null,
  noFreeTier: {
    error: {
      code: 429,
      message:
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 0, model: gemini-2.5-pro\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro\nPlease retry in 46.14850072s.",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.Help",
          links: [{
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          }],
        },
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [
            {
              quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
              quotaId: "GenerateContentInputTokensPerModelPerDay-FreeTier",
              quotaDimensions: { location: "global", model: "gemini-2.5-pro" },
            },
            {
              quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
              quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
              quotaDimensions: { location: "global", model: "gemini-2.5-pro" },
            },
          ],
        },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "46s" },
      ],
    },
  },
  apiKeyInvalid: {
    error: {
      code: 400,
      message: "API key not valid. Please pass a valid API key.",
      status: "INVALID_ARGUMENT",
      details: [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      }],
    },
  },
  location: {
    error: {
      code: 400,
      message: "User location is not supported for the API use.",
      status: "FAILED_PRECONDITION",
    },
  },
  noBilling: {
    error: {
      code: 400,
      message: "User location is not supported for the API use without a billing account linked.",
      status: "FAILED_PRECONDITION",
    },
  },
  freeTierCountry: {
    error: {
      code: 400,
      message:
        "Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.",
      status: "FAILED_PRECONDITION",
    },
  },
  fileNotActive: {
    error: {
      code: 400,
      message: "The File abc123 is not in an ACTIVE state and usage is not allowed.",
      status: "FAILED_PRECONDITION",
    },
  },
  unauthenticated: {
    error: {
      code: 401,
      message: "Request had invalid authentication credentials.",
      status: "UNAUTHENTICATED",
    },
  },
  prepaid: {
    error: { code: 402, message: "Your prepaid credit balance is depleted.", status: "RESOURCE_EXHAUSTED" },
  },
  filePermission: {
    error: {
      code: 403,
      message: "You do not have permission to access the File abc or it may not exist.",
      status: "PERMISSION_DENIED",
    },
  },
  leaked: {
    error: {
      code: 403,
      message: "Your API key was reported as leaked. Please use another API key.",
      status: "PERMISSION_DENIED",
    },
  },
  otherForbidden: {
    error: { code: 403, message: "The caller does not have permission", status: "PERMISSION_DENIED" },
  },
  overloaded: {
    error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" },
  },
  highDemand: {
    error: {
      code: 503,
      message:
        "This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.",
      status: "UNAVAILABLE",
    },
  },
  internal: {
    error: {
      code: 500,
      message:
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      status: "INTERNAL",
    },
  },
  notFound: {
    error: {
      code: 404,
      message:
        "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
      status: "NOT_FOUND",
    },
  },
} satisfies Record<string, GoogleErrorBody | null>;

const ROW_CASES: Array<{ row: string; status: number; body: GoogleErrorBody | null; kind: string }> = [
  { row: "2xx/3xx: served", status: 200, body: REAL.ok, kind: "ok" },
  { row: "429 RESOURCE_EXHAUSTED", status: 429, body: REAL.noFreeTier, kind: "no_access" },
  { row: "400 API_KEY_INVALID", status: 400, body: REAL.apiKeyInvalid, kind: "disable" },
  { row: "400 FAILED_PRECONDITION", status: 400, body: REAL.location, kind: "no_access" },
  { row: "400 FAILED_PRECONDITION", status: 400, body: REAL.noBilling, kind: "no_access" },
  { row: "400 FAILED_PRECONDITION", status: 400, body: REAL.freeTierCountry, kind: "no_access" },
  { row: "400: the request's own error", status: 400, body: REAL.fileNotActive, kind: "client_error" },
  { row: "401 UNAUTHENTICATED", status: 401, body: REAL.unauthenticated, kind: "disable" },
  { row: "402 prepaid credit depleted", status: 402, body: REAL.prepaid, kind: "disable" },
  {
    row: "403 no permission to access a resource",
    status: 403,
    body: REAL.filePermission,
    kind: "client_error",
  },
  { row: "403 PERMISSION_DENIED about the key", status: 403, body: REAL.leaked, kind: "disable" },
  { row: "403: the request's own error", status: 403, body: REAL.otherForbidden, kind: "client_error" },
  { row: "503 UNAVAILABLE", status: 503, body: REAL.overloaded, kind: "overloaded" },
  { row: "503 UNAVAILABLE", status: 503, body: REAL.highDemand, kind: "overloaded" },
  { row: "408, 5xx: transient", status: 500, body: REAL.internal, kind: "transient" },
];

Deno.test("classification table: each row decides Google's real body for it", () => {
  for (const c of ROW_CASES) {
    const input = { ...base, status: c.status, body: c.body };
    const row = CLASSIFICATION.find((r) => r.matches(input));
    assert.ok(row?.name.startsWith(c.row), `${c.status} ${c.body?.error.message}: decided by "${row?.name}"`);
    assert.equal(classify(input).kind, c.kind, `${c.status} ${c.body?.error.message}`);
  }
  for (const row of CLASSIFICATION) {
    assert.ok(ROW_CASES.some((c) => row.name.startsWith(c.row)), `row "${row.name}" has a case`);
  }
  assert.equal(
    classify({ ...base, status: 404, body: REAL.notFound }).kind,
    "client_error",
    "no row: the client's",
  );
});

Deno.test("429 with limit: 0 only in the message (no quotaValue) is no access, not a daily quota", () => {
  const v = classify({ ...base, status: 429, body: REAL.noFreeTier });
  assert.ok(v.kind === "no_access", JSON.stringify(v));
  assert.match(v.reason, /GenerateContentInputTokensPerModelPerDay-FreeTier|GenerateRequestsPerDay/);
  // The same violations with a non-zero limit in the message stay a daily quota.
  const daily = structuredClone(REAL.noFreeTier);
  daily.error.message = daily.error.message.replaceAll("limit: 0", "limit: 50");
  assert.equal(classify({ ...base, status: 429, body: daily }).kind, "cooldown");
  // A bare message with limit 0 and no details at all is no access too.
  const bare = {
    error: {
      code: 429,
      message:
        "Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-flash-preview-image",
      status: "RESOURCE_EXHAUSTED",
    },
  };
  assert.equal(classify({ ...base, status: 429, body: bare }).kind, "no_access");
});

Deno.test("FAILED_PRECONDITION location and billing answers: no access for the key, with Google's words", () => {
  for (const body of [REAL.location, REAL.noBilling, REAL.freeTierCountry]) {
    const v = classify({ ...base, status: 400, body });
    assert.ok(v.kind === "no_access" && v.reason.includes(body.error.message), JSON.stringify(v));
  }
});

Deno.test("503 overloaded is Google's capacity: the key stays in rotation, RetryInfo is kept", () => {
  const v = classify({ ...base, status: 503, body: REAL.highDemand });
  assert.ok(v.kind === "overloaded" && /high demand/.test(v.reason));
  const withDelay = structuredClone(REAL.overloaded) as GoogleErrorBody;
  withDelay.error.details = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" }];
  const d = classify({ ...base, status: 503, body: withDelay });
  assert.ok(d.kind === "overloaded" && d.retryAfterMs === 2000);
});
