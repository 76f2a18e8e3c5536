import assert from "node:assert/strict";
import { keyId } from "../lib/pool/key_record.ts";
import { fakeKey, startHarness } from "./support/harness.ts";

const auth = { authorization: "Bearer test-admin-token-123456" };

Deno.test("keys page and API with 10,000 keys: one page rendered, search and paging on the server", async () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => fakeKey(i + 1));
  const h = await startHarness({ keys });
  try {
    // A cooldown without end (no access to a model) travels to the page as null.
    h.gw.pool.report(keyId(fakeKey(2)), "gemini-2.5-pro", { kind: "no_access", reason: "no access" });
    const page = await fetch(`${h.url}/admin/keys`, { headers: { ...auth, accept: "text/html" } });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.equal(html.match(/<tr data-key-id=/g)?.length, 50, "only the first page is rendered");
    assert.match(html, /"total":10000/);
    assert.match(html, /"model":"gemini-2\.5-pro","until":null,"kind":"no_access"/);
    assert.ok(html.length < 200_000, `page stays small (${html.length} bytes)`);

    const last = await (await fetch(`${h.url}/admin/api/keys?offset=9990&limit=50`, { headers: auth }))
      .json();
    assert.equal(last.total, 10_000);
    assert.equal(last.keys.length, 10);

    const id = keyId(fakeKey(7777));
    const found = await (await fetch(`${h.url}/admin/api/keys?search=${id}`, { headers: auth })).json();
    assert.deepEqual(found.keys.map((k: { id: string }) => k.id), [id]);
    assert.deepEqual(found.counts, { active: 9_999, cooling: 1, disabled: 0 });

    const filtered = await fetch(`${h.url}/admin/keys?state=disabled`, {
      headers: { ...auth, accept: "text/html" },
    });
    assert.match(await filtered.text(), /No keys match this search or filter/);
  } finally {
    await h.close();
  }
});
