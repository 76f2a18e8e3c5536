/**
 * The capacity panel's members line (lib/admin/ui/dashboard_parts.tsx `MembersNote`) tells the admin
 * which gateway members the figures cover. A member that serves (active) but whose figures are not on
 * the board yet (its first heartbeat after it started serving, or its KV write failed) is not added;
 * the line must not call it idle, since an idle member's share really is left to the others and the
 * figures would then be the whole pool's, while here they are only the answering member's share.
 */
import assert from "node:assert/strict";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { KeyPool } from "../lib/pool/key_pool.ts";
import { capacityReport } from "../lib/pool/capacity.ts";
import { type BoardMembers, CapacityBoard } from "../lib/cluster/capacity_board.ts";
import { CapacityPanel } from "../lib/admin/ui/dashboard_parts.tsx";

const T = Date.UTC(2026, 2, 3, 18, 0, 10);

Deno.test("capacity panel: an active member whose figures are missing is not called idle", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // Both members serve: each paces against half of the limit.
    const pool = new KeyPool({ now: () => T, share: () => ({ count: 2, rank: 0 }) });
    pool.upsert({ id: "a", key: "key-a", enabled: true, addedAt: 0, limits: { m: { rpm: 10, rpd: 100 } } });
    const members: BoardMembers = {
      id: "self",
      activeIds: () => ["self", "other"],
      alive: () => 2,
      onHeartbeat: () => {},
    };
    const board = new CapacityBoard({
      kv,
      members,
      report: () => capacityReport(pool, { now: T }),
      now: () => T,
    });
    // "other" has not published its figures yet.
    const capacity = await board.read();
    assert.equal(capacity.models.find((m) => m.model === "m")?.minute.limit, 5, "this member's half only");
    const html = renderToString(h(CapacityPanel, { capacity, now: T }));
    assert.doesNotMatch(html, /idle member/, html.match(/<p[^>]*data-capacity-members[^]*?<\/p>/)?.[0] ?? "");
  } finally {
    kv.close();
  }
});
