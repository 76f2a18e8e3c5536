/**
 * Every body the gateway parses itself is capped: the sign-in form (before the token is looked at)
 * and the admin API (bearer or session). Bodies are streamed from a generator that counts what the
 * server pulled, over a real socket.
 */
import assert from "node:assert/strict";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { startHarness } from "./support/harness.ts";

const MB = 1024 * 1024;

/** A chunked request body of up to `total` bytes of `fill`, counting how many bytes were pulled. */
function countingBody(total: number, fill: string) {
  const chunk = new TextEncoder().encode(fill.repeat(64 * 1024 / fill.length));
  const counter = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (counter.pulled >= total) return ctl.close();
      counter.pulled += chunk.length;
      ctl.enqueue(chunk);
    },
  });
  return { body, counter };
}

Deno.test("a 64 MB sign-in form gets 413 after at most a few MB are read; no session, no throttle strike", async () => {
  const h = await startHarness();
  try {
    const { body, counter } = countingBody(64 * MB, "token=aaaa&");
    const res = await fetch(`${h.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      redirect: "manual",
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers.get("set-cookie"), null);
    await res.body?.cancel();
    assert.ok(counter.pulled < 16 * MB, `pulled ${counter.pulled} bytes`);
    // Declared too large: refused from the headers alone.
    const declared = await fetch(`${h.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=" + "b".repeat(20_000),
    });
    assert.equal(declared.status, 413);
    await declared.body?.cancel();
    // A normal sign-in still works (the refused bodies were not counted as failed attempts).
    const ok = await fetch(`${h.url}/admin/login`, {
      method: "POST",
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: "/admin/keys" }),
      redirect: "manual",
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/admin/keys");
    await ok.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("the bearer admin API caps bodies at 4 MiB: a 64 MB streamed body gets 413 after a few MB", async () => {
  const h = await startHarness();
  try {
    const { body, counter } = countingBody(64 * MB, "AIza");
    const res = await fetch(`${h.url}/admin/api/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).error.message, /larger than 4194304 bytes/);
    assert.ok(counter.pulled < 16 * MB, `pulled ${counter.pulled} bytes`);
    const declared = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ aliases: { a: "x".repeat(5 * MB) } }),
    });
    assert.equal(declared.status, 413);
    await declared.body?.cancel();
    assert.deepEqual(h.gw.settings.current.aliases, {});
    // Within the cap the API works as before.
    const small = await fetch(`${h.url}/admin/api/settings`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ aliases: { a: "gemini-2.5-flash" } }),
    });
    assert.equal(small.status, 200);
    await small.body?.cancel();
    // Without credentials nothing is read at all: 401 straight away.
    const { body: body2, counter: counter2 } = countingBody(64 * MB, "x");
    const stranger = await fetch(`${h.url}/admin/api/keys`, { method: "POST", body: body2 });
    assert.equal(stranger.status, 401);
    await stranger.body?.cancel();
    assert.ok(counter2.pulled < 16 * MB, `pulled ${counter2.pulled} bytes`);
  } finally {
    await h.close();
  }
});
