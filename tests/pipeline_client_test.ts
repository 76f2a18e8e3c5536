/**
 * A client cannot hurt the pool: what fails before a request leaves the gateway is never charged to a
 * key, methods Google does not serve get 405, native paths stay inside Google's API prefixes, and a
 * body that arrives too slowly is cut.
 */
import assert from "node:assert/strict";
import { type Harness, startHarness } from "./support/harness.ts";

/** Sends raw HTTP/1.1 bytes (paths are not normalised on the way) and returns the status and body. */
async function raw(h: Harness, text: string, waitMs = 5_000): Promise<{ status: number; body: string }> {
  const port = Number(new URL(h.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(text));
    const buf = new Uint8Array(64 * 1024);
    let out = "";
    const until = performance.now() + waitMs;
    while (!/\r\n\r\n/.test(out) || !complete(out)) {
      const n = await Promise.race([
        conn.read(buf),
        new Promise<"late">((r) => setTimeout(() => r("late"), Math.max(1, until - performance.now()))),
      ]);
      if (n === "late") throw new Error(`no complete answer within ${waitMs} ms; got ${JSON.stringify(out)}`);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
    const [head, ...rest] = out.split("\r\n\r\n");
    return { status: Number(head.split(" ")[1]), body: rest.join("\r\n\r\n") };
  } finally {
    conn.close();
  }
}

function complete(out: string): boolean {
  const [head, ...rest] = out.split("\r\n\r\n");
  const length = /content-length: (\d+)/i.exec(head);
  return length ? new TextEncoder().encode(rest.join("\r\n\r\n")).length >= Number(length[1]) : true;
}

function noKeyTouched(h: Harness): void {
  for (const r of h.gw.pool.records()) {
    assert.deepEqual(h.gw.pool.cooldownsOf(r.id), [], "no key cools down or backs off");
  }
  assert.ok(h.gw.pool.pairs().every((p) => p.state.failures === 0), "no failure charged to any key");
  assert.equal(h.mock.requests.length, 0, "nothing went upstream");
}

Deno.test("methods Google does not serve get 405 with Allow, and never charge a key (TRACE x4)", async () => {
  const h = await startHarness();
  try {
    for (let i = 0; i < 4; i++) {
      const r = await raw(
        h,
        `TRACE /v1beta/models/gemini-2.5-flash HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${h.token}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(r.status, 405);
      assert.equal(JSON.parse(r.body).error.status, "UNIMPLEMENTED");
    }
    const r = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash`, {
      method: "OPTIONS",
      headers: { "x-goog-api-key": h.token },
    });
    assert.notEqual(r.status, 500);
    await r.body?.cancel();
    noKeyTouched(h);
    const ok = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash`, {
      headers: { "x-goog-api-key": h.token },
    });
    assert.equal(ok.status, 200, "the keys still serve");
    await ok.body?.cancel();
  } finally {
    await h.close();
  }
});

for (
  const path of [
    "/v1beta/../anything",
    "/v1beta/%2e%2e/anything",
    "/v1beta/models/..%2f..%2fanything",
    "/gemini/v1beta/../../anything",
    "/v1beta//models",
  ]
) {
  Deno.test(`native path ${path} never leaves the API prefixes: refused, no key used`, async () => {
    const h = await startHarness();
    try {
      const r = await raw(
        h,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${h.token}\r\nConnection: close\r\n\r\n`,
      );
      assert.ok(r.status === 404 || r.status === 400, `status ${r.status}`);
      noKeyTouched(h);
    } finally {
      await h.close();
    }
  });
}

Deno.test("dot segments that stay inside the prefix are normalised and served", async () => {
  const h = await startHarness();
  try {
    const r = await raw(
      h,
      `GET /v1beta/files/../models/gemini-2.5-flash HTTP/1.1\r\nHost: x\r\nx-goog-api-key: ${h.token}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(r.status, 200);
    assert.equal(h.mock.requests.at(-1)!.path, "/v1beta/models/gemini-2.5-flash");
  } finally {
    await h.close();
  }
});

Deno.test("a request body that arrives too slowly is cut with 408 (CLIENT_BODY_TIMEOUT_MS), nothing goes upstream", async () => {
  const h = await startHarness({ env: { CLIENT_BODY_TIMEOUT_MS: "300" } });
  try {
    for (
      const [path, auth] of [
        ["/v1beta/models/gemini-2.5-flash:generateContent", `x-goog-api-key: ${h.token}`],
        ["/v1/chat/completions", `authorization: Bearer ${h.token}`],
      ]
    ) {
      const r = await raw(
        h,
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"contents": [`,
      );
      assert.equal(r.status, 408, path);
      assert.match(JSON.parse(r.body).error.message, /CLIENT_BODY_TIMEOUT_MS/);
    }
    noKeyTouched(h);
  } finally {
    await h.close();
  }
});
