/**
 * A gateway pointed at the raw-TCP {@link FaultUpstream}, on random loopback ports, for fault tests.
 *
 * @module
 */
import { createGateway, type Gateway } from "../../gateway.ts";
import type { RequestRecord } from "../../lib/pipeline/request_record.ts";
import { FaultUpstream } from "./fault_upstream.ts";
import { fakeKey } from "./harness.ts";

/** A gateway and its fault upstream. */
export interface FaultHarness {
  url: string;
  gw: Gateway;
  up: FaultUpstream;
  records: RequestRecord[];
  token: string;
  /** The pool's key ids in pool order. */
  keyIds: string[];
  close(): Promise<void>;
}

/** Starts a fault upstream and a gateway in front of it (3 keys unless `keys` says otherwise). */
export async function startFaultHarness(
  o: { env?: Record<string, string>; keys?: string[] } = {},
): Promise<FaultHarness> {
  const up = FaultUpstream.start();
  const token = "fault-client-token-1234";
  const records: RequestRecord[] = [];
  const keys = o.keys ?? [fakeKey(1), fakeKey(2), fakeKey(3)];
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: keys.join(","),
      ALLOWED_TOKENS: token,
      ADMIN_TOKEN: "fault-admin-token-123456",
      UPSTREAM_BASE_URL: up.url,
      MAX_WAIT_MS: "0",
      SYNC_INTERVAL_MS: "0",
      KEEP_ALIVE_MS: "0",
      ...o.env,
    },
    onRecord: (r) => records.push(r),
  });
  await gw.ready;
  up.requests.length = 0;
  records.length = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, gw.app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    gw,
    up,
    records,
    token,
    keyIds: gw.pool.records().map((r) => r.id),
    async close() {
      up.close();
      await server.shutdown();
      await gw.close();
    },
  };
}
