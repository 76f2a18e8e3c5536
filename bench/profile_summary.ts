/**
 * Reading a V8 CPU profile (`.cpuprofile`, as `--cpu-prof` and the inspector write it) as µs of CPU per
 * request: the pieces of the request's path (inclusive) and the functions by self time. Shared by
 * `bench:profile` (in process) and `bench:served` (the served process under wrk).
 *
 * @module
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A piece of the request's path: a sample counts for it when any frame on its stack matches. */
export const PIECES: Array<[string, (f: CallFrame) => boolean]> = [
  ["hono dispatch (all)", (f) => /^#?dispatch$/.test(f.functionName) && f.url.includes("hono")],
  ["client auth", (f) => f.functionName === "clientAuthHandler"],
  ["cors", (f) => f.url.endsWith("lib/http/cors.ts")],
  ["edge (whole)", (f) => f.functionName === "handle" && /routes\/\w+\.ts$/.test(f.url)],
  ["read request body", (f) => f.url.endsWith("lib/http/body.ts")],
  [
    "prepare",
    (f) => f.url.endsWith("lib/pipeline/prepare.ts") || f.url.includes("lib/features/request_features"),
  ],
  ["pipeline (forward)", (f) => /lib\/pipeline\/(forward|attempt_\w+)\.ts$/.test(f.url)],
  ["key choice", (f) => f.url.includes("lib/pool/key_pool.ts") && /pick|choose/i.test(f.functionName)],
  ["upstream request", (f) => f.url.endsWith("lib/pipeline/upstream.ts")],
  ["upstream body read", (f) => f.url.endsWith("lib/pipeline/upstream_body.ts")],
  ["usage count", (f) => f.url.endsWith("lib/pool/usage.ts")],
  ["token limits", (f) => f.url.endsWith("lib/tokens/token_limits.ts")],
  ["log record", (f) => f.url.endsWith("lib/logs/log_store.ts")],
  ["metrics record", (f) => f.url.endsWith("lib/metrics/metrics.ts") || f.url.endsWith("histogram.ts")],
  ["redact", (f) => f.url.endsWith("lib/secrets/redact.ts")],
  [
    "translate (openai/anthropic/responses)",
    (f) => /lib\/(openai|anthropic|responses)\//.test(f.url),
  ],
  ["sse encode", (f) => f.url.endsWith("lib/http/sse.ts")],
  ["gemini stream read", (f) => f.url.endsWith("lib/gemini/stream.ts")],
  ["zod", (f) => /\/zod(@|\/)/.test(f.url)],
  ["JSON.parse", (f) => f.functionName === "parse" && f.url === ""],
  ["JSON.stringify", (f) => f.functionName === "stringify" && f.url === ""],
  ["garbage collector", (f) => f.functionName === "(garbage collector)"],
];

function short(f: CallFrame): string {
  const file = f.url.replace(/^.*\/(node_modules|npm|registry\.npmjs\.org)\//, "npm:").replace(
    /^file:\/\/.*?\/(lib|routes|bench|gateway\.ts)/,
    "$1",
  ).replace(/^.*\/(hono@[^/]+|zod@[^/]+)\/.*\/([^/]+)$/, "$1/$2");
  return `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : "(native)"}`;
}

/**
 * Where a function's code lives: our folders (`lib/pool`, `routes`, ...), `hono`, `zod`, the runtime's
 * JavaScript (`deno:fetch`, `deno:web`, ...), its native ops (`ops`), or V8 itself (GC, `(program)`).
 */
export function groupOf(f: CallFrame): string {
  const npm = /\/registry\.npmjs\.org\/(@[^/]+\/[^/]+|[^/]+)\//.exec(f.url);
  if (npm) return "npm:" + npm[1];
  const ours = /\/(lib\/\w+|routes|bench|gateway\.ts|main\.ts)/.exec(f.url);
  if (f.url.startsWith("file:") && ours) return ours[1];
  if (f.url.startsWith("ext:")) return "deno:" + (f.url.split("/")[0].replace(/^ext:(deno_)?/, ""));
  if (f.url) return "other";
  return f.functionName.startsWith("op_") ? "ops (native)" : f.functionName;
}

export function summarize(p: Profile, requests: number) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const groups = new Map<string, number>();
  const pieces = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(p.samples[i])!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    busy += dt;
    const key = short(leaf.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const group = groupOf(leaf.callFrame);
    groups.set(group, (groups.get(group) ?? 0) + dt);
    const hit = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      for (const [name, match] of PIECES) if (!hit.has(name) && match(f)) hit.add(name);
    }
    for (const name of hit) pieces.set(name, (pieces.get(name) ?? 0) + dt);
  }
  const per = (us: number) => (us / requests).toFixed(2);
  return { busy: per(busy), self, groups, pieces, per };
}

/** Prints {@link summarize}'s pieces and the top `top` functions by self time as Markdown tables. */
export function printSummary(p: Profile, requests: number, top: number): void {
  const s = summarize(p, requests);
  console.log("| piece (inclusive) | µs per request |");
  console.log("|---|---|");
  for (const [piece] of PIECES) {
    const us = s.pieces.get(piece);
    if (us) console.log(`| ${piece} | ${s.per(us)} |`);
  }
  console.log("\n| where (self time) | µs per request |");
  console.log("|---|---|");
  for (const [group, us] of [...s.groups].sort((a, b) => b[1] - a[1]).slice(0, 24)) {
    console.log(`| ${group} | ${s.per(us)} |`);
  }
  console.log(`\n| top ${top} functions by self time | µs per request |`);
  console.log("|---|---|");
  for (const [fn, us] of [...s.self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${fn.replaceAll("|", "\\|")} | ${s.per(us)} |`);
  }
}
