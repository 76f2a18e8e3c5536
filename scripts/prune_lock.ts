/**
 * Keeps `deno.lock` to what the gateway itself runs on. Tests import their SDKs (OpenAI's, Google's,
 * playwright-core) with `npm:` specifiers from `tests/support/sdk/`, outside `deno.json`, because
 * `deno task start` installs every package the lock lists. `deno task test` locks them in
 * `tests/test.lock`; a test run without `--lock=tests/test.lock` writes them into `deno.lock` instead,
 * and this script, run first by `deno task test`, takes them out again: it keeps the specifiers
 * `deno.json` imports and the packages they reach, and drops the rest. No network, no other files.
 *
 * Run: `deno run --allow-read=deno.lock --allow-write=deno.lock scripts/prune_lock.ts` (`--check` only
 * reports).
 *
 * @module
 */

/** The parts of a lockfile (version 5) this script reads. */
export interface Lockfile {
  version: string;
  specifiers?: Record<string, string>;
  npm?: Record<string, { dependencies?: string[] } & Record<string, unknown>>;
  workspace?: { dependencies?: string[] };
  [other: string]: unknown;
}

/** `@scope/name@1.2.3_peer@4` -> `@scope/name`. */
function packageName(id: string): string {
  return id.slice(0, id.indexOf("@", 1));
}

/** `npm:@scope/name@^1.2` -> `@scope/name`. */
function specifierName(spec: string): string {
  const bare = spec.slice(4);
  const at = bare.indexOf("@", 1);
  return at < 0 ? bare : bare.slice(0, at);
}

/**
 * The lockfile with only the `deno.json` dependencies (`workspace.dependencies`) and the npm
 * packages they reach, and what was dropped.
 */
export function pruneLock(lock: Lockfile): { lock: Lockfile; dropped: string[] } {
  const keep = new Set(lock.workspace?.dependencies ?? []);
  const specifiers = Object.fromEntries(Object.entries(lock.specifiers ?? {}).filter(([s]) => keep.has(s)));
  const npm = lock.npm ?? {};
  const byName = new Map<string, string[]>();
  for (const id of Object.keys(npm)) {
    const list = byName.get(packageName(id)) ?? [];
    byName.set(packageName(id), [...list, id]);
  }
  const reached = new Set<string>();
  const visit = (id: string) => {
    if (reached.has(id) || !npm[id]) return;
    reached.add(id);
    for (const dep of npm[id].dependencies ?? []) {
      // A dependency is named by its id, or by its name alone when only one version is locked.
      if (npm[dep]) visit(dep);
      else for (const candidate of byName.get(dep) ?? []) visit(candidate);
    }
  };
  for (const [spec, resolved] of Object.entries(specifiers)) {
    if (spec.startsWith("npm:")) visit(`${specifierName(spec)}@${resolved}`);
  }
  const dropped = [
    ...Object.keys(lock.specifiers ?? {}).filter((s) => !keep.has(s)),
    ...Object.keys(npm).filter((id) => !reached.has(id)),
  ];
  const keptNpm = Object.fromEntries(Object.entries(npm).filter(([id]) => reached.has(id)));
  return { lock: { ...lock, specifiers, npm: keptNpm }, dropped };
}

if (import.meta.main) {
  const path = new URL("../deno.lock", import.meta.url);
  const { lock, dropped } = pruneLock(JSON.parse(await Deno.readTextFile(path)));
  if (dropped.length === 0) Deno.exit(0);
  if (Deno.args.includes("--check")) {
    console.error(`deno.lock holds packages the gateway does not use: ${dropped.join(", ")}`);
    Deno.exit(1);
  }
  await Deno.writeTextFile(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`deno.lock: removed ${dropped.length} entries only tests use (they are in tests/test.lock).`);
}
