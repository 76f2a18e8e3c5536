/**
 * The translating edges parse request bodies with zod's compiled fast path (`z.compile`): a valid body
 * through one generated function, anything else through the schema itself. These tests feed the same
 * bodies (valid, invalid, odd shapes, and seeded random mutations of each) through both and require the
 * same outcome: the same parsed value (key order included: parts of it are echoed back, e.g. a Response's
 * `tools`) or the same 400 (message, param, code). A fast path that drifts from the schema fails here.
 *
 * @module
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { GatewayError } from "../lib/http/errors.ts";
import { chatRequestParser, chatRequestSchema, parseOpenAI } from "../lib/openai/schemas.ts";
import { responsesRequestParser, responsesRequestSchema } from "../lib/responses/schemas.ts";
import {
  countTokensRequestParser,
  countTokensRequestSchema,
  messagesRequestParser,
  messagesRequestSchema,
} from "../lib/anthropic/schemas.ts";

type Outcome =
  | { ok: true; json: string; value: unknown }
  | { ok: false; status: number; message: string; param?: string; code?: string };

/** What an edge gets from a body: the parsed request, or the 400 it answers with. */
function outcome(schema: z.ZodType, body: unknown): Outcome {
  try {
    const value = parseOpenAI(schema, structuredClone(body));
    return { ok: true, json: JSON.stringify(value), value };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return {
      ok: false,
      status: err.status,
      message: err.message,
      param: err.options.param,
      code: err.options.code,
    };
  }
}

/** Asserts the fast path and the schema agree on `body`; returns whether it was valid. */
function agree(pair: { schema: z.ZodType; parser: z.ZodType }, body: unknown): boolean {
  const slow = outcome(pair.schema, body);
  const fast = outcome(pair.parser, body);
  const shown = JSON.stringify(body)?.slice(0, 300);
  if (slow.ok && fast.ok) {
    assert.equal(fast.json, slow.json, `same JSON (key order too) for ${shown}`);
    assert.deepStrictEqual(fast.value, slow.value, `same value for ${shown}`);
  } else assert.deepStrictEqual(fast, slow, `same outcome for ${shown}`);
  return slow.ok;
}

/** A small seeded generator (a linear congruential one), so a failure is reproducible. */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Values of every JSON type (and a few that only objects built in code hold). */
const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 60,
  Number.NaN,
  Infinity,
  "",
  "text",
  "function",
  "user",
  "message",
  [],
  [null],
  ["a"],
  [{}],
  {},
  { type: "text" },
  { type: "text", text: "x" },
  { role: "user", content: "x" },
  { __proto__: null, type: "text" },
  JSON.parse('{"__proto__": {"polluted": true}, "type": "text", "text": "x"}'),
  undefined,
];

/** Every path (object keys and array indexes) inside `value`. */
function paths(value: unknown, at: PropertyKey[] = []): PropertyKey[][] {
  const out: PropertyKey[][] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  }
  return out;
}

/** A copy of `body` with one change at a random path: a value replaced, a key removed or added. */
function mutate(body: unknown, next: () => number): unknown {
  const copy = structuredClone(body);
  const all = paths(copy).filter((p) => p.length);
  const path = all[Math.floor(next() * all.length)];
  if (!path) return copy;
  let parent = copy as Record<PropertyKey, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<PropertyKey, unknown>;
  const key = path[path.length - 1];
  const pick = next();
  if (pick < 0.6) parent[key] = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
  else if (pick < 0.8 && !Array.isArray(parent)) delete parent[key];
  else if (Array.isArray(parent)) parent.push(structuredClone(parent[0]));
  else parent[`extra_${Math.floor(next() * 3)}`] = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
  return copy;
}

/** Each body as it is, then `rounds` mutations of each (one to three changes). */
function check(
  pair: { schema: z.ZodType; parser: z.ZodType },
  bodies: unknown[],
  o: { seed: number; rounds: number },
): { valid: number; invalid: number } {
  const next = random(o.seed);
  let valid = 0;
  let invalid = 0;
  const count = (ok: boolean) => ok ? valid++ : invalid++;
  for (const body of bodies) {
    count(agree(pair, body));
    for (let r = 0; r < o.rounds; r++) {
      let changed = body;
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) changed = mutate(changed, next);
      count(agree(pair, changed));
    }
  }
  return { valid, invalid };
}

const TOP_LEVEL_ODD: unknown[] = [null, undefined, "", "x", 0, 1, true, [], [{}], {}, { model: "" }];

const chatBodies: unknown[] = [
  ...TOP_LEVEL_ODD,
  { model: "gemini-2.5-flash", messages: [{ role: "user", content: "Say hello." }] },
  { model: "gemini-2.5-flash", messages: [] },
  { model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }], stream: true },
  {
    messages: [{ content: "You are terse.", role: "system" }, { role: "user", content: "hi", name: "bob" }],
    model: "m",
    user: "u-1",
    store: false,
    metadata: { a: "b" },
  },
  {
    model: "gemini-2.5-pro",
    messages: [
      { role: "developer", content: [{ type: "text", text: "Be brief." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
          { type: "image_url", image_url: "https://example.com/a.png" },
          { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
          { type: "file", file: { file_data: "data:application/pdf;base64,AAAA", filename: "a.pdf" } },
          { type: "file", file: { file_id: "files/abc" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          extra_content: { google: { thought_signature: "c2ln" } },
        }],
        extra_content: { google: { thought_signature: null } },
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
      {
        role: "assistant",
        content: [{ type: "refusal", refusal: "No." }],
        images: [{ image_url: { url: "x" } }],
      },
      { role: "function", name: "f", content: null },
    ],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.2,
    top_p: 0.9,
    top_k: 40,
    n: 1,
    stop: ["\n\n", "END"],
    max_tokens: 100,
    max_completion_tokens: 200,
    seed: 7,
    logprobs: true,
    top_logprobs: 3,
    presence_penalty: 0.1,
    frequency_penalty: -0.1,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "out",
        schema: { type: "object", properties: { a: { type: "string" } } },
        strict: true,
      },
    },
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          strict: false,
        },
      },
      { type: "web_search_preview", search_context_size: "low" },
    ],
    tool_choice: { type: "function", function: { name: "get_weather" } },
    reasoning_effort: "low",
    google: {
      thinking_config: { thinking_budget: 128 },
      safety_settings: [{ category: "x" }],
      cached_content: "c",
    },
    extra_body: { google: { thinking_config: { include_thoughts: true } } },
  },
  {
    model: "m",
    messages: [{ role: "user", content: "x" }],
    stop: "END",
    response_format: { type: "json_object" },
    tool_choice: {
      type: "allowed_tools",
      allowed_tools: { mode: "required", tools: [{ function: { name: "a" } }, { type: "function" }] },
    },
    tools: [{ type: "function", function: { name: "a" } }],
  },
  {
    model: "m",
    messages: [{ role: "user", content: "x" }],
    tool_choice: "required",
    response_format: { type: "text" },
  },
  { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 0 },
  { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 1.5 },
  { model: "m", messages: [{ role: "user", content: "x" }], top_logprobs: 21 },
  { model: "m", messages: [{ role: "wizard", content: "x" }] },
  { model: "m", messages: [{ role: "user" }] },
  { model: "m", messages: [{ role: "user", content: [{ type: "video", url: "x" }] }] },
  { model: "m", messages: [{ role: "tool", content: "x" }] },
  { model: "m", messages: [{ role: "user", content: "x" }], tools: [{ type: "function" }] },
  { model: "m", messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: {} }] },
  { model: 5, messages: [{ role: "user", content: "x" }] },
];

const responsesBodies: unknown[] = [
  ...TOP_LEVEL_ODD,
  { model: "gemini-2.5-flash", input: "Say hello." },
  { model: "gemini-2.5-flash" },
  { model: "m", input: null, instructions: null, tools: null },
  {
    model: "gemini-2.5-pro",
    instructions: "Be brief.",
    input: [
      { role: "user", content: "hi" },
      { type: "message", role: "developer", content: [{ type: "input_text", text: "rules" }], id: null },
      {
        role: "user",
        content: [
          { type: "input_text", text: "look" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" },
          { type: "input_image", file_id: "file-1" },
          { type: "input_file", file_data: "data:application/pdf;base64,AAAA", filename: "a.pdf" },
          { type: "input_file", file_url: "https://example.com/a.pdf" },
        ],
      },
      {
        type: "message",
        role: "assistant",
        id: "msg_1",
        status: "completed",
        content: [{ type: "output_text", text: "hello", annotations: [] }, {
          type: "refusal",
          refusal: "no",
        }],
      },
      {
        type: "reasoning",
        id: "rs_1",
        summary: [{ type: "summary_text", text: "thinking" }],
        encrypted_content: "e",
      },
      { type: "function_call", call_id: "call_1", name: "f", arguments: "{}", namespace: "ns", id: "fc_1" },
      { type: "function_call_output", call_id: "call_1", output: "42" },
      { type: "function_call_output", call_id: "call_1", output: [{ type: "input_text", text: "42" }] },
      { type: "custom_tool_call", call_id: "call_2", name: "sh", input: "ls" },
      { type: "custom_tool_call_output", call_id: "call_2", output: "a b" },
      { type: "item_reference", id: "msg_abc_0" },
      { id: "msg_abc_1" },
      { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search" } },
    ],
    tools: [
      {
        type: "function",
        name: "f",
        description: "d",
        parameters: { type: "object", properties: {} },
        strict: true,
      },
      { type: "custom", name: "sh", description: "shell" },
      {
        type: "namespace",
        name: "ns",
        tools: [{ type: "function", name: "g", parameters: { type: "object" } }],
      },
      { type: "web_search", search_context_size: "low" },
    ],
    tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "f" }] },
    parallel_tool_calls: false,
    text: {
      format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true },
      verbosity: "low",
    },
    reasoning: { effort: "high", summary: "auto" },
    max_output_tokens: 500,
    temperature: 1,
    top_p: 0.5,
    include: ["reasoning.encrypted_content"],
    store: false,
    previous_response_id: "resp_abc",
    metadata: { a: "b" },
    stream: true,
    prompt_cache_key: "k",
    service_tier: "auto",
  },
  { model: "m", input: "x", tool_choice: "none", text: { format: { type: "json_object" } } },
  { model: "m", input: "x", text: { format: { type: "text" } }, reasoning: {} },
  { model: "m", input: [{ type: "message", role: "robot", content: "x" }] },
  { model: "m", input: [{ type: "function_call", call_id: "c" }] },
  { model: "m", input: [{ type: "item_reference" }] },
  { model: "m", input: [{ content: "no role, no id" }] },
  { model: "m", input: [{ type: 5 }] },
  { model: "m", input: "x", metadata: { a: 1 } },
  { model: "m", input: "x", max_output_tokens: 0 },
  { model: "m", input: "x", text: { format: { type: "json_schema" } } },
];

const messagesBodies: unknown[] = [
  ...TOP_LEVEL_ODD,
  { model: "gemini-2.5-flash", max_tokens: 256, messages: [{ role: "user", content: "Say hello." }] },
  { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] },
  {
    model: "claude-opus-4-1",
    max_tokens: 1024,
    system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
          { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          { type: "document", source: { type: "file", file_id: "f" }, title: "t", context: null },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "abc" } },
          { type: "document", source: { type: "content", content: [{ type: "text", text: "x" }] } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "redacted_thinking", data: "x" },
          { type: "tool_use", id: "toolu_1", name: "f", input: { a: 1 } },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_1",
            content: [{ type: "text", text: "42" }],
            is_error: false,
          },
          { type: "tool_result", tool_use_id: "toolu_1", content: "42" },
          { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "search_result", source: "s" }] },
        ],
      },
      { role: "system", content: "mid-conversation system text" },
    ],
    tools: [
      { name: "f", description: "d", input_schema: { type: "object", properties: {} } },
      { name: "web_search", type: "web_search_20250305", max_uses: 3 },
    ],
    tool_choice: { type: "auto", disable_parallel_tool_use: true },
    thinking: { type: "enabled", budget_tokens: 2048, display: "summarized" },
    output_config: { effort: "high", format: { type: "json_schema", schema: { type: "object" } } },
    stream: true,
    stop_sequences: ["END"],
    temperature: 0.5,
    top_p: 0.9,
    top_k: 10,
    metadata: { user_id: "u" },
  },
  {
    model: "m",
    max_tokens: 1,
    messages: [{ role: "user", content: "x" }],
    tool_choice: { type: "tool", name: "f" },
    thinking: { type: "adaptive" },
  },
  { model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], thinking: { type: "enabled" } },
  {
    model: "m",
    max_tokens: 1,
    messages: [{ role: "user", content: [{ type: "image", source: { type: "x" } }] }],
  },
  { model: "m", max_tokens: 1, messages: [{ role: "user", content: [{ type: "text" }] }] },
  { model: "m", max_tokens: 1, messages: [{ role: "bot", content: "x" }] },
  { model: "m", max_tokens: 1, messages: [{ role: "user", content: "x" }], tool_choice: { type: "tool" } },
  {
    model: "m",
    max_tokens: 1,
    messages: [{ role: "user", content: "x" }],
    output_config: { effort: "huge" },
  },
];

const PAIRS = {
  chat: { schema: chatRequestSchema, parser: chatRequestParser, bodies: chatBodies },
  responses: { schema: responsesRequestSchema, parser: responsesRequestParser, bodies: responsesBodies },
  messages: { schema: messagesRequestSchema, parser: messagesRequestParser, bodies: messagesBodies },
  count_tokens: {
    schema: countTokensRequestSchema,
    parser: countTokensRequestParser,
    bodies: messagesBodies,
  },
};

for (const [name, pair] of Object.entries(PAIRS)) {
  Deno.test(`compiled ${name} request schema: really compiled (a fast path of its own)`, () => {
    // z.compile hands back the schema itself when it cannot compile it: then there is no fast path.
    assert.notEqual(pair.parser, pair.schema);
  });

  Deno.test(`compiled ${name} request schema: same value or same 400 as the schema, valid and invalid bodies`, () => {
    const { valid, invalid } = check(pair, pair.bodies, { seed: 14, rounds: 150 });
    // Both kinds were exercised, many times.
    assert.ok(valid > 50, `valid bodies checked: ${valid}`);
    assert.ok(invalid > 200, `invalid bodies checked: ${invalid}`);
  });
}

Deno.test("the agreement check fails on a fast path that drifts (a value, a key order, an error)", () => {
  const schema = z.looseObject({ model: z.string(), n: z.number().nullish() });
  const body = { n: 1, model: "m", extra: true };
  // A parser that keeps the body's own key order (zod puts the schema's keys first).
  const sameKeysOtherOrder = z.any().transform((v) => structuredClone(v));
  assert.throws(() => agree({ schema, parser: sameKeysOtherOrder }, body), /key order/);
  // A parser that drops an unknown key.
  const drops = z.looseObject({ model: z.string(), n: z.number().nullish() }).transform((
    { extra: _, ...v },
  ) => v);
  assert.throws(() => agree({ schema, parser: drops }, body), assert.AssertionError);
  // A parser that accepts what the schema refuses, and one whose error differs.
  assert.throws(() => agree({ schema, parser: z.any() }, { model: 5 }), assert.AssertionError);
  assert.throws(
    () => agree({ schema, parser: z.looseObject({ model: z.string().min(2) }) }, { model: "m" }),
    assert.AssertionError,
  );
});
