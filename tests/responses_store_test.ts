/**
 * The Responses store's cheaper write path keeps what it stores: a record written with the answer's
 * JSON reused is the same text as `JSON.stringify(record)` and reads back the same from KV.
 *
 * @module
 */
import assert from "node:assert/strict";
import { recordJson, ResponseStore, type StoredResponse } from "../lib/responses/store.ts";
import type { ResponseObject } from "../lib/responses/response_stream.ts";

function response(id: string, extra: Record<string, unknown> = {}): ResponseObject {
  return {
    id,
    object: "response",
    status: "completed",
    output: [{
      id: `msg_${id.slice(5)}_0`,
      type: "message",
      content: [{ type: "output_text", text: 'hé \u2028 "q"' }],
    }],
    usage: null,
    ...extra,
  };
}

const RECORDS: StoredResponse[] = [
  { owner: "t1", response: response("resp_a"), input: [] },
  { owner: "t1", response: response("resp_b"), input: [], previousId: undefined },
  {
    owner: "",
    response: response("resp_c", { metadata: { k: "v" }, temperature: null }),
    input: [],
    previousId: "resp_a",
  },
  {
    owner: "tok-9",
    response: response("resp_d", { note: undefined, tools: [{ type: "function", name: "f" }] }),
    input: [{ type: "message", role: "user", content: "hi", id: "msg_d_i0" }],
    previousId: "resp_c",
  },
  { previousId: "resp_x", input: [], response: response("resp_e"), owner: "reordered" } as StoredResponse,
];

Deno.test("recordJson: the same text as JSON.stringify(record), the response's JSON given", () => {
  for (const record of RECORDS) {
    assert.equal(recordJson(record, JSON.stringify(record.response)), JSON.stringify(record));
  }
});

Deno.test("a record saved with its response's JSON reads back the same from KV", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const writer = new ResponseStore({ kv, retentionMs: () => 3_600_000 });
    for (const record of RECORDS) writer.save(record, { responseJson: JSON.stringify(record.response) });
    const reader = new ResponseStore({ kv, retentionMs: () => 3_600_000 });
    const last = RECORDS[RECORDS.length - 1];
    for (let i = 0; i < 200 && !(await kv.get(["responses", last.response.id])).value; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const record of RECORDS) {
      // A fresh store has nothing cached: this is the KV copy.
      assert.deepStrictEqual(
        await reader.get(record.response.id, record.owner),
        JSON.parse(JSON.stringify(record)),
      );
    }
  } finally {
    kv.close();
  }
});
