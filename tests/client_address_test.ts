/**
 * The client address helper: the peer, or the trusted-proxy-forwarded address, as the throttles and
 * the refusal log see it.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { clientAddress, isAddressOrRange, trustedProxies } from "../lib/http/client_address.ts";

/** The address `clientAddress` finds for a request from `peer` with `xff`, trusting `trusted`. */
async function addressOf(peer: string | undefined, trusted: string[], xff?: string): Promise<string> {
  const app = new Hono().get("/", (c) => c.text(clientAddress(c, trustedProxies(trusted))));
  const env = peer === undefined
    ? undefined
    : { remoteAddr: { transport: "tcp", hostname: peer, port: 5000 } };
  const res = await app.request("/", { headers: xff ? { "x-forwarded-for": xff } : {} }, env);
  return await res.text();
}

Deno.test("client address: the peer, unless it is a trusted proxy; then the nearest untrusted forwarded hop", async () => {
  assert.equal(await addressOf("10.0.0.5", [], "1.2.3.4"), "10.0.0.5", "no trusted proxies");
  assert.equal(await addressOf("10.0.0.5", ["10.0.0.9"], "1.2.3.4"), "10.0.0.5", "untrusted peer");
  assert.equal(await addressOf("10.0.0.5", ["10.0.0.0/8"], "1.2.3.4"), "1.2.3.4");
  assert.equal(
    await addressOf("10.0.0.5", ["10.0.0.0/8"], "6.6.6.6, 1.2.3.4, 10.1.1.1"),
    "1.2.3.4",
    "a client-supplied first hop is not believed",
  );
  assert.equal(await addressOf("10.0.0.5", ["10.0.0.0/8"], "10.1.1.1"), "10.1.1.1");
  assert.equal(await addressOf("10.0.0.5", ["10.0.0.0/8"], "garbage, 1.2.3.4"), "1.2.3.4");
  assert.equal(await addressOf("10.0.0.5", ["10.0.0.0/8"], "1.2.3.4, garbage"), "10.0.0.5");
  assert.equal(await addressOf("::ffff:10.0.0.5", ["10.0.0.0/8"]), "10.0.0.5");
  assert.equal(await addressOf("::1", ["::1"], "[2001:db8::1]"), "2001:db8::1");
  assert.equal(await addressOf(undefined, []), "unknown");
});

Deno.test("trusted proxy entries: IPv4 and IPv6 addresses and CIDR ranges, and what is not one", () => {
  for (const ok of ["10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32", "0.0.0.0/0"]) {
    assert.ok(isAddressOrRange(ok), ok);
  }
  for (const bad of ["10.0.0.256", "10.0.0.0/33", "::1/129", "example.com", "1.2.3.4/8/1", ""]) {
    assert.ok(!isAddressOrRange(bad), bad);
  }
});
