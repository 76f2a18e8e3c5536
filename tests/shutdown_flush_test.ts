/**
 * Closing the gateway while a background write to KV is still running (the store answered slowly)
 * waits for it: the write lands, and nothing prints "flush failed" about a database closed under it.
 */
import assert from "node:assert/strict";
import { fakeKey, type Harness, startHarness } from "./support/harness.ts";
import { nativeGenerate } from "./support/requests.ts";

const STORES: Array<[string, (h: Harness) => Promise<void>]> = [
  ["metrics", (h) => h.gw.metrics.flush()],
  ["usage", (h) => h.gw.usage.flush()],
  ["logs", (h) => h.gw.logs.flush()],
];

for (const [name, flush] of STORES) {
  Deno.test(`close: a ${name} flush still running when the gateway closes lands before KV closes`, async () => {
    const h = await startHarness({ keys: [fakeKey(1)] });
    const printed: string[] = [];
    const realError = console.error;
    const atomic = Deno.AtomicOperation.prototype;
    const commit = atomic.commit;
    const kvSet = Deno.Kv.prototype.set;
    let writes = 0;
    try {
      await (await nativeGenerate(h, { token: h.token })).body?.cancel();
      for (const [other, flushOther] of STORES) if (other !== name) await flushOther(h);
      await h.gw.store.flush();
      console.error = (...args: unknown[]) => printed.push(args.map(String).join(" "));
      // The store's next write is slow (a busy database): it is still running when the gateway closes.
      const slowFirst = async <T>(write: () => Promise<T>): Promise<T> => {
        if (writes++ === 0) await new Promise((r) => setTimeout(r, 300));
        return await write();
      };
      atomic.commit = function (this: Deno.AtomicOperation) {
        return slowFirst(() => commit.call(this));
      };
      Deno.Kv.prototype.set = function (this: Deno.Kv, ...args: Parameters<Deno.Kv["set"]>) {
        return slowFirst(() => kvSet.apply(this, args));
      };
      const running = flush(h);
      await h.close();
      await running;
      assert.deepEqual(printed.filter((l) => /flush failed/.test(l)), []);
    } finally {
      atomic.commit = commit;
      Deno.Kv.prototype.set = kvSet;
      console.error = realError;
    }
  });
}
