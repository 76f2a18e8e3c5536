/**
 * Compares two V8 heap snapshots (`.heapsnapshot`, e.g. from `BENCH_SNAPSHOT_DIR` in `bench:streams`):
 * objects counted and sized by constructor (or by type for strings, code, arrays...), the groups that
 * grew most from the first to the second printed first. What a leak looks like: a group of ours whose
 * count grows by about the number of requests served between the two snapshots.
 * Usage: deno run --allow-read bench/heap_diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]
 * Format: https://v8.dev/docs/heap-snapshot (the `snapshot.meta` fields describe the flat `nodes` array).
 *
 * @module
 */

interface Group {
  count: number;
  bytes: number;
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Objects of a snapshot grouped by `type:name` (name only for objects, closures and native objects). */
export function groups(snap: HeapSnapshot): Map<string, Group> {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const out = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]];
    const named = type === "object" || type === "closure" || type === "native";
    const key = named ? `${type}:${snap.strings[snap.nodes[i + nameAt]].slice(0, 80)}` : type;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += snap.nodes[i + sizeAt];
    out.set(key, g);
  }
  return out;
}

if (import.meta.main) {
  const [a, b, rows = "25"] = Deno.args;
  if (!a || !b) throw new Error("usage: deno run --allow-read bench/heap_diff.ts <before> <after> [rows]");
  const [before, after] = await Promise.all(
    [a, b].map(async (p) => groups(JSON.parse(await Deno.readTextFile(p)))),
  );
  const total = (m: Map<string, Group>) => [...m.values()].reduce((s, g) => s + g.bytes, 0);
  console.log(
    `total self size: ${(total(before) / 1e6).toFixed(2)} MB -> ${(total(after) / 1e6).toFixed(2)} MB\n`,
  );
  const diff = [...new Set([...before.keys(), ...after.keys()])].map((k) => {
    const x = before.get(k) ?? { count: 0, bytes: 0 };
    const y = after.get(k) ?? { count: 0, bytes: 0 };
    return { k, count: y.count - x.count, bytes: y.bytes - x.bytes, now: y.count };
  }).sort((p, q) => q.bytes - p.bytes);
  console.log("| group | count change | count now | bytes change |");
  console.log("|---|---|---|---|");
  for (const d of diff.slice(0, Number(rows))) {
    console.log(
      `| ${d.k} | ${d.count >= 0 ? "+" : ""}${d.count} | ${d.now} | ${d.bytes >= 0 ? "+" : ""}${d.bytes} |`,
    );
  }
}
