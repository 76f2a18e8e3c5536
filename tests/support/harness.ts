/**
 * Starts a mock Gemini upstream and a gateway pointed at it, both on random loopback ports.
 *
 * @module
 */
import { createGateway, type Gateway } from "../../gateway.ts";
import type { RequestRecord } from "../../lib/pipeline/request_record.ts";
import { keyId } from "../../lib/pool/key_record.ts";
import { MockGemini, type MockOptions } from "./mock_gemini.ts";

/** A gateway and its mock upstream, for one test. */
export interface Harness {
  url: string;
  gw: Gateway;
  mock: MockGemini;
  records: RequestRecord[];
  token: string;
  close(): Promise<void>;
}

/** A syntactically valid fake Google API key, distinct per `n`. */
export function fakeKey(n: number): string {
  return "AIza" + String(n).padStart(35, "x");
}

/** Options for {@link startHarness}. */
export interface HarnessOptions {
  /** `GEMINI_API_KEYS` (default: three fake keys). */
  keys?: string[];
  /**
   * Keys put straight into the pool (through its store) instead: any string, also shapes
   * `GEMINI_API_KEYS` and the panel refuse (keys stored before those checks, restores).
   */
  poolKeys?: string[];
  env?: Record<string, string>;
  mock?: MockOptions;
  /** An already running mock to reuse. */
  useMock?: MockGemini;
}

/** Starts mock + gateway. Close it at the end of the test. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const mock = opts.useMock ?? await MockGemini.start(opts.mock);
  const token = "test-client-token-1234";
  const records: RequestRecord[] = [];
  const gw = await createGateway({
    env: {
      KV_PATH: ":memory:",
      GEMINI_API_KEYS: (opts.keys ?? (opts.poolKeys ? [] : [fakeKey(1), fakeKey(2), fakeKey(3)])).join(","),
      ALLOWED_TOKENS: token,
      ADMIN_TOKEN: "test-admin-token-123456",
      UPSTREAM_BASE_URL: mock.url,
      MAX_WAIT_MS: "0",
      SYNC_INTERVAL_MS: "0",
      ...opts.env,
    },
    onRecord: (r) => records.push(r),
  });
  if (opts.poolKeys) {
    await gw.store.addKeys(opts.poolKeys.map((key) => ({ id: keyId(key), key, enabled: true, addedAt: 1 })));
    await gw.catalog.ids().catch(() => {}); // the first model listing, as a start with keys does
  }
  await gw.ready; // the first model listing goes upstream at start; tests count from a clean slate
  mock.reset();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, gw.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    gw,
    mock,
    records,
    token,
    async close() {
      await server.shutdown();
      await gw.close();
      if (!opts.useMock) await mock.close();
    },
  };
}

/** Puts key `id` on a cooldown for `model` for `ms` from now, as a 429 from Google would. */
export function coolDown(
  h: Harness,
  id: string,
  model: string,
  opts: { ms: number; window?: "minute" | "day"; reason?: string },
): void {
  h.gw.pool.report(id, model, {
    kind: "cooldown",
    window: opts.window ?? "minute",
    until: Date.now() + opts.ms,
    reason: opts.reason ?? "rpm",
  });
}
