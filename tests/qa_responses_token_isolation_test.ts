/**
 * QA (issue 12): stored responses must be visible only to the client token that made them. Two
 * tokens from `ALLOWED_TOKENS` that happen to end in the same four characters (their display name is
 * `token-<last 4>`) must not see, continue, list or delete each other's stored responses.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { startHarness } from "./support/harness.ts";

const ALICE = "alice-team-secret-9999";
const BOB = "bob-other-secret-9999";

Deno.test("qa responses: a stored response is invisible to another token whose last four characters match", async () => {
  const h = await startHarness({ env: { ALLOWED_TOKENS: `${ALICE},${BOB}` } });
  try {
    const alice = new OpenAI({ apiKey: ALICE, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const bob = new OpenAI({ apiKey: BOB, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const mine = await alice.responses.create({ model: "gemini-2.5-flash", input: "alice private note" });
    assert.equal(mine.output_text, "echo: alice private note");

    await assert.rejects(
      bob.responses.retrieve(mine.id),
      (e: unknown) => e instanceof OpenAI.NotFoundError,
      "another token cannot read the stored response",
    );
    await assert.rejects(
      bob.responses.inputItems.list(mine.id),
      (e: unknown) => e instanceof OpenAI.NotFoundError,
      "another token cannot list its input items",
    );
    await assert.rejects(
      bob.responses.create({ model: "gemini-2.5-flash", input: "and then?", previous_response_id: mine.id }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /not found/.test(e.message),
      "another token cannot continue the conversation",
    );
    await assert.rejects(
      bob.responses.delete(mine.id),
      (e: unknown) => e instanceof OpenAI.NotFoundError,
      "another token cannot delete it",
    );
    const still = await alice.responses.retrieve(mine.id);
    assert.equal(still.output_text, "echo: alice private note", "the owner still has it");
  } finally {
    await h.close();
  }
});
