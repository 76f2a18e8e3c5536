/**
 * QA: lib/features/request_features.ts promises "client fields are never dropped" (except a client
 * function named googleSearch). With the `-search` suffix, a `tools` value that is not an array (a
 * single Tool object, which Google's JSON mapping of a repeated field takes as a one-item list), and any
 * non-object item of a `tools` array, is silently replaced by `[{googleSearch: {}}]`: the client's
 * function declarations never reach Google, and nothing tells the client.
 */
import assert from "node:assert/strict";
import { startHarness } from "./support/harness.ts";

const DECLARATION = { name: "find_theaters", parameters: { type: "object", properties: {} } };

Deno.test("-search keeps the client's function declarations when tools is a single Tool object", async () => {
  const h = await startHarness();
  try {
    const res = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash-search:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [{ role: "user", parts: [{ text: "films tonight" }] }],
        tools: { functionDeclarations: [DECLARATION] },
      }),
    });
    await res.body?.cancel();
    const up = h.mock.requests.at(-1)!;
    assert.match(up.bodyText, /"find_theaters"/, `the declaration was dropped: ${up.bodyText}`);
  } finally {
    await h.close();
  }
});

Deno.test("-search keeps a snake_case single Tool and non-object tools items (Google judges them)", async () => {
  const h = await startHarness();
  try {
    // Gemini 3: Google Search goes next to the functions (with includeServerSideToolInvocations).
    const send = async (tools: unknown, model = "gemini-3-flash-preview-search") => {
      const res = await fetch(`${h.url}/v1beta/models/${model}:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "films tonight" }] }], tools }),
      });
      await res.body?.cancel();
      return (h.mock.requests.at(-1)!.json as { tools: unknown }).tools;
    };
    assert.deepEqual(await send({ function_declarations: [DECLARATION] }), [
      { functionDeclarations: [DECLARATION] },
      { googleSearch: {} },
    ]);
    assert.deepEqual(await send(["code_execution", { functionDeclarations: [DECLARATION] }]), [
      "code_execution",
      { functionDeclarations: [DECLARATION] },
      { googleSearch: {} },
    ]);
    // Gemini 2.5 refuses Google Search next to functions: the client's tools go without it, none dropped.
    const as25 = JSON.stringify(
      await send({ function_declarations: [DECLARATION] }, "gemini-2.5-flash-search"),
    );
    assert.match(as25, /"find_theaters"/);
    assert.doesNotMatch(as25, /googleSearch|google_search/);
  } finally {
    await h.close();
  }
});
