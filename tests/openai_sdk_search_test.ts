/**
 * Web search on the OpenAI route: the `-search` model suffix adds Google Search grounding upstream; the
 * answer carries `url_citation` annotations and (with searchLinks on) a Sources list, in streams too.
 */
import assert from "node:assert/strict";
import OpenAI from "./support/sdk/openai.ts";
import { type Harness, startHarness } from "./support/harness.ts";

function sdk(h: Harness): OpenAI {
  return new OpenAI({ apiKey: h.token, baseURL: h.url + "/v1", maxRetries: 0 });
}

type Json = Record<string, unknown>;
type Annotation = { type: string; url_citation: { url: string; title: string; start_index: number } };

function lastBody(h: Harness): { path: string; json: Json } {
  const r = h.mock.requests.filter((x) => /:(stream)?[gG]enerateContent$/.test(x.path)).at(-1)!;
  return { path: r.path, json: r.json as Json };
}

const MSG: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "latest news" }];

Deno.test("search: -search model adds googleSearch upstream; answer has url_citation annotations and Sources", async () => {
  const h = await startHarness();
  try {
    const res = await sdk(h).chat.completions.create({ model: "gemini-2.5-flash-search", messages: MSG });
    const up = lastBody(h);
    assert.equal(up.path, "/v1beta/models/gemini-2.5-flash:generateContent", "the suffix is stripped");
    assert.deepEqual(up.json.tools, [{ googleSearch: {} }]);
    const msg = res.choices[0].message as unknown as { content: string; annotations: Annotation[] };
    assert.equal(res.model, "gemini-2.5-flash-search", "the client's model name is echoed");
    assert.ok(msg.content.startsWith("echo: latest news"), msg.content);
    assert.match(msg.content, /Sources:/);
    assert.match(msg.content, /grounding-api-redirect\/mock0/);
    assert.match(msg.content, /example\.org/);
    assert.ok(msg.annotations.length >= 1, JSON.stringify(msg));
    assert.equal(msg.annotations[0].type, "url_citation");
    assert.match(msg.annotations[0].url_citation.url, /mock0$/);
    assert.equal(msg.annotations[0].url_citation.title, "example.com");
  } finally {
    await h.close();
  }
});

Deno.test("search: with searchLinks off there are annotations but no Sources list", async () => {
  const h = await startHarness({ env: { SEARCH_LINKS: "false" } });
  try {
    const res = await sdk(h).chat.completions.create({ model: "gemini-2.5-flash-search", messages: MSG });
    const msg = res.choices[0].message as unknown as { content: string; annotations: Annotation[] };
    assert.equal(msg.content, "echo: latest news");
    assert.ok(msg.annotations.length >= 1);
  } finally {
    await h.close();
  }
});

Deno.test("search stream: the answer first, then annotations and the Sources list", async () => {
  const h = await startHarness();
  try {
    const stream = await sdk(h).chat.completions.create({
      model: "gemini-2.5-flash-search",
      messages: MSG,
      stream: true,
    });
    const contents: string[] = [];
    const annotations: Annotation[] = [];
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { content?: string; annotations?: Annotation[] } | undefined;
      if (d?.content) contents.push(d.content);
      annotations.push(...(d?.annotations ?? []));
    }
    assert.deepEqual(lastBody(h).json.tools, [{ googleSearch: {} }]);
    const all = contents.join("");
    assert.ok(all.startsWith("echo: latest news\n\nSources:"), all);
    assert.match(contents.at(-1)!, /Sources:/, "sources come in their own delta after the answer");
    assert.ok(annotations.length >= 1 && annotations[0].type === "url_citation");
  } finally {
    await h.close();
  }
});
