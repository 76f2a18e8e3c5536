/**
 * The one reader of Google's `google.rpc` error details (lib/gemini/rpc_status.ts) on Google's real error
 * bodies (wire reference part D), and the pool's classification and the OpenAI error mapping agreeing
 * because both use it.
 */
import assert from "node:assert/strict";
import {
  apiKeyInvalid,
  type GoogleErrorBody,
  parseDuration,
  parseGoogleError,
  quotaVerdict,
  readErrorDetails,
  retryDelayMs,
} from "../lib/gemini/rpc_status.ts";
import { classify } from "../lib/pool/classify.ts";
import { toOpenAIError } from "../lib/openai/errors.ts";
import { badRequestDetail, GatewayError } from "../lib/http/errors.ts";

const RPC = "type.googleapis.com/google.rpc.";

/** 400 for an invalid (or expired) key, as Google sends it. */
const INVALID_KEY = `{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": { "service": "generativelanguage.googleapis.com" }
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key."
      }
    ]
  }
}`;

/** 429 for a per-minute free-tier quota, as Google sends it. */
const QUOTA_MINUTE = `{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 15, model: gemini-2.0-flash\\nPlease retry in 47.43s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
          {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "quotaDimensions": { "location": "global", "model": "gemini-2.0-flash" },
            "quotaValue": "15"
          }
        ]
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [
          { "description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits" }
        ]
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "47s" }
    ]
  }
}`;

/** 403 for a key restricted away from the API, as Google sends it. */
const SERVICE_BLOCKED = `{
  "error": {
    "code": 403,
    "message": "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked.",
    "status": "PERMISSION_DENIED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_SERVICE_BLOCKED",
        "domain": "googleapis.com",
        "metadata": {
          "consumer": "projects/123456789",
          "service": "generativelanguage.googleapis.com",
          "apiName": "generativelanguage.googleapis.com",
          "methodName": "google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent"
        }
      },
      {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent are blocked."
      }
    ]
  }
}`;

/** 400 for an unknown field in the body, as Google sends it (a field violation without `field`). */
const UNKNOWN_FIELD = `{
  "error": {
    "code": 400,
    "message": "Invalid JSON payload received. Unknown name \\"foo\\": Cannot find field.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{ "description": "Invalid JSON payload received. Unknown name \\"foo\\": Cannot find field." }]
      }
    ]
  }
}`;

const parse = (text: string) => parseGoogleError(text)!;

/** A 429 with one quota violation. */
function quota429(
  violation: Record<string, unknown>,
  message = "You exceeded your current quota.",
): GoogleErrorBody {
  return {
    error: {
      code: 429,
      message,
      status: "RESOURCE_EXHAUSTED",
      details: [{ "@type": RPC + "QuotaFailure", violations: [violation] }],
    },
  };
}

Deno.test("ErrorInfo and LocalizedMessage of an invalid key", () => {
  const body = parse(INVALID_KEY);
  const d = readErrorDetails(body);
  assert.deepEqual(d.errorInfo, {
    reason: "API_KEY_INVALID",
    domain: "googleapis.com",
    metadata: { service: "generativelanguage.googleapis.com" },
  });
  assert.deepEqual(d.localizedMessage, {
    locale: "en-US",
    message: "API key not valid. Please pass a valid API key.",
  });
  assert.deepEqual([d.quotaViolations, d.fieldViolations, d.helpLinks, d.retryDelayMs], [
    [],
    [],
    [],
    undefined,
  ]);
  assert.equal(apiKeyInvalid(body), true);
  // An expired key says so in the message; without details the message alone counts.
  assert.equal(
    apiKeyInvalid({
      error: { code: 400, message: "API key expired. Please renew the API key.", status: "" },
    }),
    true,
  );
  assert.equal(apiKeyInvalid(parse(SERVICE_BLOCKED)), false);
});

Deno.test("QuotaFailure, Help and RetryInfo of a per-minute 429", () => {
  const body = parse(QUOTA_MINUTE);
  const d = readErrorDetails(body);
  assert.deepEqual(d.quotaViolations, [{
    quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
    quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    quotaDimensions: { location: "global", model: "gemini-2.0-flash" },
    quotaValue: "15",
  }]);
  assert.deepEqual(d.helpLinks, [{
    description: "Learn more about Gemini API quotas",
    url: "https://ai.google.dev/gemini-api/docs/rate-limits",
  }]);
  assert.equal(d.retryDelayMs, 47_000);
  assert.equal(retryDelayMs(body), 47_000, "RetryInfo wins over the message's 47.43s");
  const v = quotaVerdict(d);
  assert.deepEqual([v.minute?.quotaValue, v.daily, v.zero, v.hard], ["15", undefined, undefined, false]);
});

Deno.test("ErrorInfo metadata of a service-blocked key", () => {
  const d = readErrorDetails(parse(SERVICE_BLOCKED));
  assert.equal(d.errorInfo?.reason, "API_KEY_SERVICE_BLOCKED");
  assert.equal(d.errorInfo?.metadata.consumer, "projects/123456789");
  assert.equal(
    d.errorInfo?.metadata.methodName,
    "google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent",
  );
});

Deno.test("BadRequest field violations, with and without a field", () => {
  assert.deepEqual(readErrorDetails(parse(UNKNOWN_FIELD)).fieldViolations, [{
    description: 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
  }]);
  const own = {
    error: { code: 400, message: "x", details: [badRequestDetail([{ field: "a.b", description: "bad" }])] },
  };
  assert.deepEqual(readErrorDetails(own).fieldViolations, [{ field: "a.b", description: "bad" }]);
  assert.equal(own.error.details[0]["@type"], RPC + "BadRequest");
});

Deno.test("retry delay: RetryInfo, else 'Please retry in N s', else none", () => {
  const helpOnly: GoogleErrorBody = {
    error: {
      code: 429,
      message: "Quota exceeded for metric: x.\nPlease retry in 12.5s.",
      status: "RESOURCE_EXHAUSTED",
      details: [{ "@type": RPC + "Help", links: [{ description: "d", url: "https://ai.google.dev" }] }],
    },
  };
  assert.equal(readErrorDetails(helpOnly).retryDelayMs, undefined);
  assert.equal(retryDelayMs(helpOnly), 12_500);
  const bare = parse(
    `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
  );
  assert.equal(retryDelayMs(bare), undefined);
  assert.deepEqual(readErrorDetails(bare), { quotaViolations: [], fieldViolations: [], helpLinks: [] });
});

Deno.test("parseDuration reads protobuf JSON durations", () => {
  assert.equal(parseDuration("37s"), 37_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("0.250s"), 250);
  assert.equal(parseDuration(" 2s "), 2000);
  for (const bad of ["soon", "37", 37, null, undefined, "1m"]) {
    assert.equal(parseDuration(bad), undefined, String(bad));
  }
});

Deno.test("malformed bodies and details never throw and are skipped", () => {
  for (const body of [null, undefined, "text", 42, [], { error: "x" }, { error: { details: "no" } }]) {
    assert.deepEqual(readErrorDetails(body), { quotaViolations: [], fieldViolations: [], helpLinks: [] });
  }
  const odd = readErrorDetails({
    error: {
      details: [
        7,
        { "@type": RPC + "RetryInfo", retryDelay: "soon" },
        { "@type": RPC + "QuotaFailure", violations: [null, { quotaId: "X", quotaValue: 0 }] },
        { "@type": RPC + "Help", links: [{ description: "no url" }] },
        { "@type": "type.googleapis.com/google.rpc.DebugInfo", detail: "ignored" },
      ],
    },
  });
  assert.deepEqual(odd, {
    quotaViolations: [{ quotaId: "X", quotaValue: "0" }],
    fieldViolations: [],
    helpLinks: [],
  });
  assert.deepEqual(parseGoogleError(`[${INVALID_KEY}]`)?.error.code, 400, "array-wrapped envelope");
  assert.equal(parseGoogleError("<html>502</html>"), null);
});

Deno.test("the pool and the OpenAI mapping read quotas the same way", () => {
  const cases: Array<{ body: GoogleErrorBody; pool: string; hard: boolean }> = [
    { body: parse(QUOTA_MINUTE), pool: "cooldown:minute", hard: false },
    {
      body: quota429({ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", quotaValue: "250" }),
      pool: "cooldown:day",
      hard: true,
    },
    {
      body: quota429({ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", quotaValue: "0" }),
      pool: "no_access",
      hard: true,
    },
    // A number where Google writes a string: still "no entitlement".
    {
      body: quota429({ quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier", quotaValue: 0 }),
      pool: "no_access",
      hard: true,
    },
  ];
  for (const { body, pool, hard } of cases) {
    const v = classify({ status: 429, body, now: 0, defaultCooldownMs: 60_000 });
    assert.equal(v.kind === "cooldown" ? `cooldown:${v.window}` : v.kind, pool, JSON.stringify(body));
    const e = toOpenAIError(new GatewayError(429, "quota", { upstream: body }));
    assert.equal(e.body.error.type === "insufficient_quota", hard, JSON.stringify(body));
    assert.equal(e.headers["x-should-retry"] === "false", hard);
  }
});

Deno.test("OpenAI mapping: Retry-After from the 'Please retry in' text when RetryInfo is missing", () => {
  const body = quota429(
    { quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", quotaValue: "15" },
    "You exceeded your current quota.\nPlease retry in 12.5s.",
  );
  const e = toOpenAIError(new GatewayError(429, "quota", { upstream: body }));
  assert.deepEqual([e.status, e.headers["retry-after"], e.body.error.type], [429, "13", "requests"]);
  const pool = classify({ status: 429, body, now: 0, defaultCooldownMs: 60_000 });
  assert.ok(
    pool.kind === "cooldown" && pool.until === 12_500,
    "the pool waits as long as the client is told to",
  );
});
