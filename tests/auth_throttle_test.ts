/**
 * The failed-authentication throttle and the refusal log's aggregation, with a fake clock.
 */
import assert from "node:assert/strict";
import { AuthFailureThrottle } from "../lib/http/auth_throttle.ts";
import { MERGED_SOURCES, RefusalLog } from "../lib/logs/refusal_log.ts";
import type { RequestRecord } from "../lib/pipeline/request_record.ts";
import { requestRecord } from "./support/requests.ts";

Deno.test("auth throttle: limit per window, known-good tokens pass, the window drains, memory is bounded", () => {
  let now = 1_000_000;
  const t = new AuthFailureThrottle({ limit: () => 3, now: () => now, maxAddresses: 2 });
  t.succeed("a", "good");
  for (let i = 0; i < 3; i++) {
    assert.equal(t.check("a", "guess"), undefined);
    t.fail("a");
    now += 1000;
  }
  assert.equal(t.check("a", "guess"), 57, "until the oldest failure is a minute old");
  assert.equal(t.check("a", "other-valid"), 57);
  assert.equal(t.check("a", "good"), undefined);
  assert.equal(t.check("b", "guess"), undefined);
  now += 57_000;
  assert.equal(t.check("a", "guess"), undefined);
  t.fail("b");
  t.fail("c");
  assert.equal(t.size, 2, "oldest address dropped");
  const off = new AuthFailureThrottle({ limit: () => 0 });
  for (let i = 0; i < 10; i++) off.fail("a");
  assert.equal(off.check("a", "x"), undefined);
  assert.equal(off.size, 0);
});

Deno.test("refusal log: first of a group at once, the rest as one entry per minute; groups are bounded", () => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 5);
  const out: RequestRecord[] = [];
  const log = new RefusalLog({ sink: (r) => out.push(r), now: () => now, maxGroups: 3 });
  const refused = (source: string, over: Partial<RequestRecord> = {}) =>
    requestRecord(now, { status: 401, outcome: "refused", refusal: "invalid_token", source, ...over });
  for (let i = 0; i < 1000; i++) log.add(refused("1.1.1.1"));
  log.add(refused("1.1.1.1", { refusal: "missing_token" }));
  assert.deepEqual(out.map((r) => [r.source, r.refusal, r.count]), [
    ["1.1.1.1", "invalid_token", 1],
    ["1.1.1.1", "missing_token", 1],
  ]);
  for (let i = 0; i < 50; i++) log.add(refused(`2.2.2.${i}`));
  now += 60_000; // the next minute: the previous minute's rest is written first
  log.add(refused("1.1.1.1"));
  const counts = new Map<string, number>();
  for (const r of out) counts.set(r.source!, (counts.get(r.source!) ?? 0) + r.count!);
  assert.equal(counts.get("1.1.1.1"), 1002);
  assert.equal(counts.get("2.2.2.0"), 1);
  assert.equal(counts.get(MERGED_SOURCES), 49, "addresses beyond the third group share one");
  assert.ok(out.length <= 8, `entries: ${out.length}`);
  log.close();
});
