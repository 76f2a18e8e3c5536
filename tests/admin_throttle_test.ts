import assert from "node:assert/strict";
import { LoginThrottle } from "../lib/admin/throttle.ts";
import { ADMIN_TOKEN } from "./support/admin_api.ts";
import { type Harness, startHarness } from "./support/harness.ts";

/** A throttle on a fake clock whose sleeps advance the clock (and are recorded). */
function fakeThrottle(opts: { maxWaitMs?: number } = {}) {
  const clock = { now: 0, slept: [] as number[] };
  const throttle = new LoginThrottle({
    ...opts,
    now: () => clock.now,
    sleep: (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
      return Promise.resolve(true);
    },
  });
  return { clock, throttle };
}

Deno.test("throttle: an IPv6 client counts per /64 (a fresh address per guess is still slowed down); IPv4 per address", async () => {
  const { throttle } = fakeThrottle();
  for (let i = 1; i <= 7; i++) {
    const turn = await throttle.admit(`2001:db8:1:2::${i.toString(16)}`);
    assert.ok(turn.allowed);
    turn.attempt.done(false);
  }
  assert.equal(throttle.failures("2001:db8:1:2:ffff::1"), 7, "the whole /64 shares one record");
  const next = await throttle.admit("2001:db8:1:2::99");
  assert.ok(next.allowed && next.waitedMs > 0, "the next address of that /64 waits its turn");
  next.attempt.done(false);
  assert.equal(throttle.failures("2001:db8:1:3::1"), 0, "another /64 is another client");
  const v4 = await throttle.admit("192.0.2.8");
  assert.ok(v4.allowed && v4.waitedMs === 0);
  v4.attempt.done(false);
  assert.equal(throttle.failures("192.0.2.9"), 0, "IPv4 addresses are counted one by one");
});

Deno.test("throttle: 5 free attempts, then turns 1 s, 2 s, 4 s, ... apart (at most 10 s); the right token still gets in", async () => {
  const { clock, throttle } = fakeThrottle();
  const fail = async () => {
    const turn = await throttle.admit("a");
    assert.ok(turn.allowed);
    turn.attempt.done(false);
    return turn.waitedMs;
  };
  const waits = [];
  for (let i = 0; i < 10; i++) waits.push(await fail());
  assert.deepEqual(waits, [0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 10000]);
  assert.equal(throttle.failures("a"), 10);
  const other = await throttle.admit("b");
  assert.ok(other.allowed && other.waitedMs === 0, "other clients are unaffected");
  other.attempt.done(true);
  // The real admin on the same address waits for a turn (never more than maxDelayMs after the last
  // attempt) and is let in; the success clears the record.
  const right = await throttle.admit("a");
  assert.ok(right.allowed);
  assert.equal(right.waitedMs, 10000);
  right.attempt.done(true);
  assert.equal(throttle.failures("a"), 0);
  assert.equal((await throttle.admit("a")).allowed, true);
  assert.deepEqual(clock.slept, [1000, 2000, 4000, 8000, 10000, 10000]);
});

Deno.test("throttle: parallel guesses queue up like a series; past maxWaitMs they are refused with Retry-After", async () => {
  let now = 0;
  const sleeps: Array<() => void> = [];
  const throttle = new LoginThrottle({
    now: () => now,
    sleep: () => new Promise((resolve) => sleeps.push(() => resolve(true))),
  });
  const turns = Array.from({ length: 11 }, () => throttle.admit("a"));
  // Five start at once; the rest wait 1, 3, 7, 15 and 25 s (in-flight attempts count as failures).
  const refused = await turns[10];
  assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 5 });
  assert.equal(sleeps.length, 5);
  for (const turn of turns.slice(0, 5)) {
    const t = await turn;
    assert.ok(t.allowed && t.waitedMs === 0);
    t.attempt.done(false);
  }
  now = 25_000;
  sleeps.forEach((wake) => wake());
  const waited = [];
  for (const turn of turns.slice(5, 10)) {
    const t = await turn;
    assert.ok(t.allowed);
    waited.push(t.waitedMs);
    t.attempt.cancel();
  }
  assert.deepEqual(waited, [1000, 3000, 7000, 15000, 25000]);
  assert.equal(throttle.failures("a"), 5, "cancelled attempts record nothing");
});

Deno.test("throttle: failures are forgotten after forgetMs; the oldest clients are dropped beyond maxClients", async () => {
  let now = 0;
  const t = new LoginThrottle({
    free: 0,
    forgetMs: 60_000,
    maxClients: 2,
    now: () => now,
    sleep: () => Promise.resolve(true),
  });
  for (const c of ["a", "b", "c"]) {
    const turn = await t.admit(c);
    assert.ok(turn.allowed);
    turn.attempt.done(false);
  }
  assert.equal(t.failures("a"), 0, "dropped: beyond maxClients");
  assert.equal(t.failures("c"), 1);
  now = 60_001;
  const turn = await t.admit("c");
  assert.ok(turn.allowed && turn.waitedMs === 0, "forgotten after forgetMs");
  turn.attempt.done(false);
  assert.equal(t.failures("c"), 1);
});

/** Deno.serve hands Hono the connection info as its env: the throttle keys on the client's address. */
function from(ip: string) {
  return { remoteAddr: { transport: "tcp", hostname: ip, port: 40000 } };
}

/**
 * Sends `count` sign-ins with `token` at once from `peer` (with `X-Forwarded-For: forwarded`), and
 * answers their statuses as they come; sign-ins still waiting for their turn when the first 429
 * arrives are abandoned (the client goes away) and reported as 0.
 */
async function burst(
  h: Harness,
  o: { peer: string; forwarded?: string; token: string; count: number },
): Promise<number[]> {
  const abort = new AbortController();
  const statuses = Array.from({ length: o.count }, async () => {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    if (o.forwarded) headers["x-forwarded-for"] = o.forwarded;
    try {
      const res = await h.gw.app.request("/admin/login", {
        method: "POST",
        headers,
        body: new URLSearchParams({ token: o.token }),
        signal: abort.signal,
      }, from(o.peer));
      await res.body?.cancel();
      if (res.status === 429) abort.abort();
      return res.status;
    } catch {
      return 0;
    }
  });
  const out = await Promise.all(statuses);
  abort.abort();
  return out;
}

Deno.test("sign-in after failed attempts is slowed down, not locked: the right token gets in, a flood gets 429", async () => {
  const h = await startHarness();
  try {
    const attempt = (token: string, ip = "10.0.0.1") =>
      h.gw.app.request("/admin/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }),
      }, from(ip));
    for (let i = 0; i < 5; i++) assert.equal((await attempt("wrong")).status, 401);
    // Before: 429 for a minute, even for the right token. Now the right token waits its turn.
    const right = await attempt(ADMIN_TOKEN);
    assert.equal(right.status, 303);
    assert.match(right.headers.get("set-cookie") ?? "", /^gw_admin=/);
    // A flood from one address queues up until the queue is 30 s long, then gets 429 + Retry-After.
    const statuses = await burst(h, { peer: "10.0.0.3", token: "wrong", count: 11 });
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(statuses[10], 429);
    const bearer = await h.gw.app.request("/admin/api/keys", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }, from("10.0.0.3"));
    assert.equal(bearer.status, 429, "bearer attempts share the throttle");
    assert.match(bearer.headers.get("retry-after") ?? "", /^\d+$/);
    await bearer.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("TRUSTED_PROXIES: behind a trusted proxy each forwarded address has its own throttle; nobody else can pick one", async () => {
  const h = await startHarness({ env: { TRUSTED_PROXIES: "10.0.0.9, 192.168.0.0/16" } });
  try {
    // Two hops of trusted proxies: the client is the last address before them.
    const attacker = await burst(h, {
      peer: "10.0.0.9",
      forwarded: "203.0.113.50, 198.51.100.7, 192.168.1.2",
      token: "wrong",
      count: 11,
    });
    assert.equal(attacker[10], 429);
    const admin = await burst(h, {
      peer: "10.0.0.9",
      forwarded: "198.51.100.8",
      token: ADMIN_TOKEN,
      count: 1,
    });
    assert.deepEqual(admin, [303], "another client behind the same proxy is not slowed down");
    const sameClient = await burst(h, {
      peer: "10.0.0.9",
      forwarded: "198.51.100.7",
      token: ADMIN_TOKEN,
      count: 1,
    });
    assert.deepEqual(sameClient, [429], "the attacker's own address stays throttled");
    // A client that is not a trusted proxy cannot choose its address with X-Forwarded-For.
    const direct = await burst(h, {
      peer: "10.0.0.10",
      forwarded: "198.51.100.9",
      token: "wrong",
      count: 11,
    });
    assert.equal(direct[10], 429);
    const spoofed = await burst(h, {
      peer: "10.0.0.10",
      forwarded: "198.51.100.99",
      token: ADMIN_TOKEN,
      count: 1,
    });
    assert.deepEqual(spoofed, [429]);
    assert.equal(h.gw.settings.current.trustedProxies.length, 2);
  } finally {
    await h.close();
  }
});
