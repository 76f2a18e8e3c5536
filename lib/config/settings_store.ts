/**
 * Run-time settings: an in-memory copy that the request path reads synchronously, backed by KV so
 * the admin panel can change them and every worker applies a change without a restart.
 * Rule: environment pins > stored value > default. Pinned fields cannot be changed at run time.
 *
 * @module
 */
import type { z } from "zod";
import type { ChangeFeed } from "../kv/change_feed.ts";
import { envName } from "./describe.ts";

const SETTINGS_KEY = ["settings", "runtime"] as const;

/** A field whose value comes from the environment, with the variable that pins it. */
export interface PinnedField {
  field: string;
  variable: string;
}

/** Options for {@link SettingsStore}. */
export interface SettingsStoreOptions<S extends z.ZodObject> {
  kv: Deno.Kv;
  feed: ChangeFeed;
  schema: S;
  /** Values from the environment (they win and are read-only). */
  pinned: Partial<z.infer<S>>;
}

/** A rejected settings change: which field and why. */
export class SettingsError extends Error {
  constructor(readonly issues: Array<{ field: string; message: string }>) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "));
    this.name = "SettingsError";
  }
}

/** In-memory settings backed by KV. */
export class SettingsStore<S extends z.ZodObject> {
  #current: z.infer<S>;
  #stored: Record<string, unknown> = {};
  #listeners = new Set<(s: z.infer<S>) => void>();

  constructor(private readonly opts: SettingsStoreOptions<S>) {
    this.#current = this.#merge({});
    opts.feed.on("settings", () => this.reload());
  }

  /** The settings in force (synchronous; safe on the request path). */
  get current(): z.infer<S> {
    return this.#current;
  }

  /** The values saved in the admin panel (without environment pins and defaults). */
  storedValues(): Record<string, unknown> {
    return structuredClone(this.#stored);
  }

  /** Fields pinned by the environment. */
  pinnedFields(): PinnedField[] {
    return Object.keys(this.opts.pinned).map((field) => ({ field, variable: envName(field) }));
  }

  /** Loads the stored values from KV. */
  async reload(): Promise<void> {
    const entry = await this.opts.kv.get<Record<string, unknown>>([...SETTINGS_KEY]);
    this.#stored = entry.value ?? {};
    this.#apply();
  }

  /** Calls `listener` after every change, local or from another worker. */
  onChange(listener: (s: z.infer<S>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Validates and stores a partial change. Pinned fields and unknown fields are refused with a
   * {@link SettingsError}; nothing is stored unless every field is valid.
   */
  async update(patch: Record<string, unknown>): Promise<z.infer<S>> {
    const issues: Array<{ field: string; message: string }> = [];
    const shape = this.opts.schema.shape as Record<string, z.ZodType>;
    for (const [field, value] of Object.entries(patch)) {
      if (!(field in shape)) issues.push({ field, message: "is not a setting" });
      else if (field in this.opts.pinned) {
        issues.push({
          field,
          message: `is set by the environment variable ${envName(field)}; change it there`,
        });
      } else {
        const r = shape[field].safeParse(value);
        if (!r.success) issues.push({ field, message: r.error.issues.map((i) => i.message).join("; ") });
      }
    }
    if (issues.length) throw new SettingsError(issues);
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.opts.kv.get<Record<string, unknown>>([...SETTINGS_KEY]);
      const next = { ...(entry.value ?? {}), ...patch };
      const op = this.opts.kv.atomic().check(entry).set([...SETTINGS_KEY], next);
      this.opts.feed.record(op, { topic: "settings" });
      if ((await op.commit()).ok) {
        this.#stored = next;
        this.#apply();
        return this.#current;
      }
    }
    throw new Error("Settings are being changed concurrently; try again.");
  }

  #merge(stored: Record<string, unknown>): z.infer<S> {
    const shape = this.opts.schema.shape as Record<string, z.ZodType>;
    // Drop stored values that no longer validate (for example after an upgrade changed a field).
    const valid: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stored)) {
      if (k in shape && shape[k].safeParse(v).success) valid[k] = v;
    }
    return this.opts.schema.parse({ ...valid, ...this.opts.pinned });
  }

  #apply(): void {
    this.#current = this.#merge(this.#stored);
    for (const l of this.#listeners) l(this.#current);
  }
}
