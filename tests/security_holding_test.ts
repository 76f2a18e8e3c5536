/**
 * What already holds, kept so (issue 13, "Already holding"): path traversal over a raw socket, session
 * fixation, stored XSS in every admin page that shows stored text, and every admin route refusing
 * callers without admin credentials (the route list is read from the app, so new routes are covered).
 */
import assert from "node:assert/strict";
import { SESSION_COOKIE } from "../lib/admin/session.ts";
import { keyId } from "../lib/pool/key_record.ts";
import { ADMIN_TOKEN, adminApi } from "./support/admin_api.ts";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";

/** Sends one raw HTTP/1.1 request (the path exactly as given, no URL normalisation). */
async function rawGet(h: Harness, path: string, headers: Record<string, string> = {}) {
  const { port } = new URL(h.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    const lines = [`GET ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) chunks.push(buf.slice(0, n));
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    return { status: Number(text.split(" ")[1]), text };
  } finally {
    conn.close();
  }
}

Deno.test("path traversal over a raw socket: nothing outside static/ is served, however the path is spelled", async () => {
  const h = await startHarness();
  try {
    for (
      const path of [
        "/static/../deno.json",
        "/static/%2e%2e/deno.json",
        "/static/%2e%2e%2fdeno.json",
        "/static/..%2fdeno.json",
        "/static/..%5cdeno.json",
        "/static/build/..%2f..%2fdeno.json",
        "/static/%252e%252e/deno.json",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/admin/../static/../deno.json",
        "/static/./../gateway.ts",
        "/static/admin.css/../../deno.json",
      ]
    ) {
      const { status, text } = await rawGet(h, path);
      assert.ok(status === 404 || status === 400 || status === 303 || status === 401, `${path}: ${status}`);
      assert.doesNotMatch(text, /"tasks"|createGateway|root:x:0/, path);
    }
    assert.equal((await rawGet(h, "/static/admin.css")).status, 200, "the real file is served");
  } finally {
    await h.close();
  }
});

Deno.test("session fixation: a sign-in always issues a new session id; a session id the client chose is refused", async () => {
  const h = await startHarness();
  try {
    const signIn = async (cookie?: string) => {
      const res = await fetch(`${h.url}/admin/login`, {
        method: "POST",
        headers: cookie ? { cookie } : {},
        body: new URLSearchParams({ token: ADMIN_TOKEN }),
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 303);
      return res.headers.get("set-cookie")!.split(";")[0];
    };
    const first = await signIn();
    const sid = (c: string) => c.slice(SESSION_COOKIE.length + 1).split(".")[0];
    // Signing in again with a session cookie already set (planted or old) gives a fresh session.
    const second = await signIn(first);
    assert.notEqual(sid(second), sid(first));
    // A cookie with an id of the attacker's choosing (not signed by the server) opens nothing.
    const forged = `${SESSION_COOKIE}=attacker-chosen-id.${Date.now() + 3_600_000}.${"A".repeat(43)}`;
    const api = await fetch(`${h.url}/admin/api/keys`, { headers: { cookie: forged } });
    assert.equal(api.status, 401);
    await api.body?.cancel();
    const third = await signIn(forged);
    assert.notEqual(sid(third), "attacker-chosen-id");
  } finally {
    await h.close();
  }
});

Deno.test("stored XSS: labels, token names, settings and logged model names are escaped on every admin page", async () => {
  const h = await startHarness({ keys: [fakeKey(1), fakeKey(2)] });
  const admin = adminApi(h);
  const payloads = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "<svg onload=alert(3)>"];
  try {
    const id = keyId(fakeKey(1));
    assert.equal(
      (await admin("POST", "/keys/update", { ids: [id], label: payloads[0], project: payloads[1] })).status,
      200,
    );
    await admin("POST", "/keys/disable", { ids: [keyId(fakeKey(2))] });
    assert.equal((await admin("POST", "/tokens", { name: payloads[2] })).status, 200);
    assert.equal(
      (await admin("PATCH", "/settings", { aliases: { [payloads[0]]: payloads[1] } })).status,
      200,
    );
    const logged = await fetch(
      `${h.url}/v1beta/models/${encodeURIComponent(payloads[2])}:generateContent`,
      {
        method: "POST",
        headers: { "x-goog-api-key": h.token, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: payloads[0] }] }] }),
      },
    );
    await logged.body?.cancel();
    for (const page of ["", "/keys", "/tokens", "/settings", "/logs"]) {
      const res = await fetch(`${h.url}/admin${page}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "text/html" },
      });
      assert.equal(res.status, 200, page);
      assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self' 'nonce-/);
      const html = await res.text();
      for (const p of payloads) assert.ok(!html.includes(p), `${page || "/"} shows ${p} unescaped`);
      assert.doesNotMatch(html, /<(img|svg)[^>]*on(error|load)=/i, page);
    }
    const keys = await (await fetch(`${h.url}/admin/keys`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "text/html" },
    })).text();
    assert.match(keys, /<div class="key-name">&lt;script>alert\(1\)&lt;\/script><\/div>/, "shown, escaped");
  } finally {
    await h.close();
  }
});

Deno.test("every admin route refuses callers without admin credentials (none, a wrong token, a client token, a forged cookie)", async () => {
  const h = await startHarness();
  try {
    const routes = h.gw.app.routes
      .filter((r) => r.path.startsWith("/admin") && r.path !== "/admin/login" && r.method !== "ALL")
      .map((r) => ({ method: r.method, path: r.path.replace(":id", "0000000000-00000000") }));
    assert.ok(routes.length >= 20, `found ${routes.length} admin routes`);
    const keysBefore = h.gw.pool.size;
    const settingsBefore = JSON.stringify(h.gw.settings.current);
    const credentials: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer wrong-admin-token-000" },
      { authorization: `Bearer ${h.token}` },
      { cookie: `${SESSION_COOKIE}=x.${Date.now() + 60_000}.${"B".repeat(43)}` },
    ];
    // Each attempt from its own address: wrong admin tokens from one address are slowed down by
    // the login throttle, which is not what this test is about.
    let client = 0;
    const from = () => ({
      remoteAddr: { transport: "tcp", hostname: `10.9.${client >> 8 & 255}.${client++ & 255}`, port: 1 },
    });
    for (const headers of credentials) {
      for (const { method, path } of routes) {
        for (const accept of ["application/json", "text/html"]) {
          const res = await h.gw.app.request(path, {
            method,
            headers: { ...headers, accept, "content-type": "application/json" },
            body: method === "GET" ? undefined : JSON.stringify({ ids: ["x"], text: fakeKey(9), name: "n" }),
          }, from());
          await res.body?.cancel();
          const toLogin = res.status === 303 &&
            /^\/admin\/login\?next=/.test(res.headers.get("location") ?? "");
          const refused = res.status === 401 || (accept === "text/html" && method === "GET" && toLogin);
          assert.ok(refused, `${method} ${path} (${JSON.stringify(headers)}, ${accept}): ${res.status}`);
        }
      }
    }
    assert.equal(h.gw.pool.size, keysBefore);
    assert.equal(JSON.stringify(h.gw.settings.current), settingsBefore);
    assert.equal(h.gw.tokens.list().length, 0);
  } finally {
    await h.close();
  }
});
