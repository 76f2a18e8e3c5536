/**
 * Opens Deno KV from the `KV_PATH` setting: a file path, `:memory:`, a KV Connect URL, or the
 * platform default on Deno Deploy. A file holds the API keys and the session-signing secret in plain
 * text, so a new file and a new folder are created readable by their owner only (0600 and 0700; SQLite
 * gives its `-wal` and `-shm` files the database file's mode). An existing file is checked for damage
 * before Deno opens it (Deno's KV would otherwise stop the process with a panic on a damaged page).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../http/errors.ts";
import { retryWhenBusy } from "./busy_retry.ts";
import { answerWithin } from "../util/answer_within.ts";

/**
 * The KV location cannot be used: its folder cannot be created (a path inside a file, no
 * permission) or the database cannot be opened (not a KV file, corrupted, unreachable). A start-up
 * error: `main.ts` prints the message, which names the path and how to fix it, and exits.
 */
export class KvOpenError extends Error {
  constructor(readonly path: string, cause: unknown) {
    super(
      `KV_PATH: cannot open "${path}": ${cause instanceof Error ? cause.message : cause}. ` +
        "Use a writable file path such as ./data/gateway.sqlite3, :memory:, or a KV Connect URL.",
      { cause },
    );
    this.name = "KvOpenError";
  }
}

/** True when `path` names a local file (not `:memory:` or a KV Connect URL). */
export function isKvFile(path: string): boolean {
  return path !== ":memory:" && !/^https?:\/\//.test(path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Creates the folder (0700) and an empty database file (0600) unless they exist. */
async function createOwnerOnly(path: string): Promise<void> {
  const dir = path.replace(/[^/\\]*$/, "");
  if (dir && !await exists(dir)) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (await exists(path)) return;
  try {
    (await Deno.open(path, { createNew: true, write: true, mode: 0o600 })).close();
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
}

/**
 * Throws when an existing database file is damaged (`PRAGMA quick_check`, read-only; about 0.3 s
 * for 500 MB). An empty file is a new database.
 */
function checkIntact(path: string): void {
  if (Deno.statSync(path).size === 0) return;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const row = db.prepare("PRAGMA quick_check(1)").get() as Record<string, unknown> | undefined;
    const verdict = String(Object.values(row ?? {})[0] ?? "");
    if (verdict !== "ok") {
      throw new Error(
        `the database file is damaged (${verdict.replace(/\s+/g, " ").trim()}); restore it from a backup ` +
          "or move it away to start with an empty one",
      );
    }
  } finally {
    db?.close();
  }
}

/** Warns once when an existing database file can be read by other users (it holds secrets). */
function warnIfShared(path: string): void {
  const mode = Deno.statSync(path).mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    console.warn(
      `Warning: KV_PATH "${path}" can be read by other users (mode ${(mode & 0o777).toString(8)}); ` +
        `it holds API keys and the admin session secret: run chmod 600 "${path}".`,
    );
  }
}

/** The `KV_PATH` default: a file under `./data/` (on Deno Deploy: the database assigned to the app). */
export const DEFAULT_KV_PATH = "./data/gateway.sqlite3";

/**
 * Opens the KV database at `path`. On Deno Deploy (`DENO_DEPLOYMENT_ID` set) the default path opens
 * the database assigned to the app (`Deno.openKv()` without a path; KV needs no flag there). A file
 * is opened with its writes retried while another worker holds its lock (`busy_retry.ts`).
 * Throws {@link KvOpenError} when the location cannot be used, or when Deno KV is not enabled
 * (`--unstable-kv`, which `deno.json` sets for every task).
 */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (typeof Deno.openKv !== "function") {
    throw new KvOpenError(
      path,
      new Error("Deno KV is not enabled in this runtime; start with --unstable-kv (deno.json sets it)"),
    );
  }
  if (Deno.env.get("DENO_DEPLOYMENT_ID") && path === DEFAULT_KV_PATH) return await Deno.openKv();
  try {
    if (isKvFile(path)) {
      const existed = await exists(path);
      await createOwnerOnly(path);
      checkIntact(path);
      if (existed) warnIfShared(path);
      return retryWhenBusy(await Deno.openKv(path));
    }
    return await Deno.openKv(path);
  } catch (e) {
    throw new KvOpenError(path, e);
  }
}

/** How long one start-up step may wait for KV (a file another process keeps locked never answers). */
export const KV_START_TIMEOUT_MS = 30_000;

/**
 * Runs one start-up step that reads or writes KV: its failure, or no answer within `timeoutMs`, becomes
 * a {@link KvOpenError} for `path` (so `main.ts` prints it instead of a stack, or hanging forever).
 */
export async function kvStartStep<T>(
  path: string,
  work: Promise<T>,
  timeoutMs = KV_START_TIMEOUT_MS,
): Promise<T> {
  try {
    return await answerWithin(work, timeoutMs, " (is another process holding the file?)");
  } catch (e) {
    throw new KvOpenError(path, e instanceof GatewayError && e.cause ? e.cause : e);
  }
}
