/**
 * Verification runs from the Keys page: ids are sent to `POST /keys/verify` in chunks of about 20,
 * so the page can show a progress bar and a run over 10,000 keys never holds one long request.
 *
 * @module
 */
import { apiCall } from "../api_client.ts";
import type { KeyListResponse, VerifyResponse } from "../api_types.ts";

/** Keys per verify request. */
export const VERIFY_CHUNK = 20;

/** Every key id in the pool (paged through `GET /keys`, 500 at a time). */
export async function allKeyIds(apiBase: string): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0;; offset += 500) {
    const page = await apiCall<KeyListResponse>(apiBase, "/keys", { query: { offset, limit: 500 } });
    ids.push(...page.keys.map((k) => k.id));
    if (page.keys.length === 0 || ids.length >= page.total) return ids;
  }
}

/** Progress of a run. */
export interface VerifyProgress extends VerifyResponse {
  total: number;
  /** Ids sent so far (deleted keys are sent but not checked). */
  processed: number;
  done: boolean;
}

/** Options of {@link verifyInChunks}. */
export interface VerifyRunOptions {
  apiBase: string;
  ids: string[];
  /** Called after every chunk. */
  onProgress: (p: VerifyProgress) => void;
  /** Stops after the current chunk. */
  signal?: AbortSignal;
}

/** Verifies keys chunk by chunk and sums up the answers. */
export async function verifyInChunks(opts: VerifyRunOptions): Promise<VerifyProgress> {
  const p: VerifyProgress = {
    total: opts.ids.length,
    processed: 0,
    checked: 0,
    valid: 0,
    disabled: [],
    enabled: [],
    failed: 0,
    done: false,
  };
  opts.onProgress({ ...p });
  for (let i = 0; i < opts.ids.length && !opts.signal?.aborted; i += VERIFY_CHUNK) {
    const ids = opts.ids.slice(i, i + VERIFY_CHUNK);
    const r = await apiCall<VerifyResponse>(opts.apiBase, "/keys/verify", { body: { ids } });
    p.processed += ids.length;
    p.checked += r.checked;
    p.valid += r.valid;
    p.failed += r.failed;
    p.disabled = [...p.disabled, ...r.disabled];
    p.enabled = [...p.enabled, ...r.enabled];
    opts.onProgress({ ...p });
  }
  p.done = true;
  opts.onProgress({ ...p });
  return p;
}
