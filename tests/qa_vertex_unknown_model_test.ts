/**
 * QA (issue 18: "maps Vertex's differences back so that clients on every dialect see the same answers";
 * README: "Clients notice nothing"). A model name that does not exist is the client's 404 on both kinds
 * of key; from a Vertex pool it must read as the Gemini API's 404, and must not tell clients the Google
 * Cloud project number behind the pool's key (Vertex's "Publisher Model `projects/<number>/…`").
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "./support/sdk/genai.ts";
import OpenAI from "./support/sdk/openai.ts";
import { startVertexHarness, type VertexHarness } from "./support/vertex_harness.ts";

const MODEL = "gemini-9-ultra";

const ASKS: Record<string, (h: VertexHarness) => Promise<unknown>> = {
  "@google/genai generateContent": (h) =>
    new GoogleGenAI({ apiKey: h.token, httpOptions: { baseUrl: h.url } }).models.generateContent({
      model: MODEL,
      contents: "hi",
    }),
  "openai chat": (h) =>
    new OpenAI({ apiKey: h.token, baseURL: `${h.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "hi" }],
    }),
};

/** The error a client saw: status and message. */
async function refusal(ask: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await ask;
  } catch (e) {
    const err = e as { status?: number; message?: string; error?: { message?: string } };
    return { status: err.status ?? 0, message: err.error?.message ?? err.message ?? String(e) };
  }
  throw new Error(`${MODEL} was answered`);
}

for (const [name, ask] of Object.entries(ASKS)) {
  Deno.test(`qa: an unknown model over ${name} gets the Gemini API's 404 from a Vertex pool, without the key's project`, async () => {
    const gemini = await startVertexHarness({ gemini: 1, vertex: 0 });
    const vertex = await startVertexHarness({ gemini: 0, vertex: 1 });
    try {
      const want = await refusal(ask(gemini));
      const got = await refusal(ask(vertex));
      assert.equal(got.status, want.status);
      assert.doesNotMatch(got.message, /projects\/\d+/, "the Vertex key's project number reached the client");
      assert.match(got.message, new RegExp(`models/${MODEL} is not found`), `Gemini pool: ${want.message}`);
    } finally {
      await gemini.close();
      await vertex.close();
    }
  });
}
