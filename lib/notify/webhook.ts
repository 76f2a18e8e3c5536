/**
 * Operator notifications by webhook (`WEBHOOK_URL`): a JSON POST when a key is disabled, when a model
 * has no usable key, and when a client token reaches its daily quota. {@link WebhookNotifier.notify}
 * only queues (it never blocks a request); a background sender posts one event at a time and retries a
 * failed delivery with exponential backoff. Repeats of the same event (same kind and subject) within
 * `repeatMs` are dropped, so a model without keys notifies once, not once per request. The queue is
 * bounded; the oldest events are dropped first.
 *
 * The body is `{ "event", "time", "text", ...fields }`; `text` is one readable sentence, so chat
 * webhooks that show a `text` field (Slack, Mattermost, Discord-compatible relays) can take it as is.
 *
 * @module
 */

/** The events the gateway notifies about. */
export type GatewayEvent =
  | { event: "key_disabled"; keyId: string; key: string; reason: string }
  | { event: "model_unavailable"; model: string; reason: string; freeAt: number | null }
  | { event: "token_quota_reached"; token: string; dailyTokens: number; used: number };

/** A readable sentence and the de-duplication subject of each event kind. */
const EVENT_TEXT: {
  [E in GatewayEvent["event"]]: (e: Extract<GatewayEvent, { event: E }>) => [string, string];
} = {
  key_disabled: (e) => [e.keyId, `Key ${e.key} was disabled: ${e.reason}`],
  model_unavailable: (e) => [
    e.model,
    `No key can serve ${e.model}: ${e.reason}` +
    (e.freeAt ? ` (the next key frees at ${new Date(e.freeAt).toISOString()})` : ""),
  ],
  token_quota_reached: (e) => [
    e.token,
    `Client token '${e.token}' reached its daily quota of ${e.dailyTokens} tokens (${e.used} used).`,
  ],
};

/** Options for {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Where to post; "" turns notifications off (read for every event: settings apply at once). */
  url: () => string;
  /** First retry delay; doubles per attempt. Default 1000 ms. */
  retryBaseMs?: number;
  /** Attempts per event, including the first. Default 5. */
  maxAttempts?: number;
  /** Drop repeats of an event (same kind and subject) for this long. Default 10 minutes. */
  repeatMs?: number;
  /** Longest queue; default 100. */
  maxQueue?: number;
  /** Time allowed for one delivery; default 10 000 ms. */
  timeoutMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface Pending {
  url: string;
  body: string;
}

/** Queues events and posts them in the background. */
export class WebhookNotifier {
  #queue: Pending[] = [];
  #recent = new Map<string, number>();
  #sending?: Promise<void>;
  #closed = false;
  #abort = new AbortController();
  readonly #now: () => number;

  constructor(private readonly o: WebhookNotifierOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Queues an event (returns at once; never throws). */
  notify(e: GatewayEvent): void {
    const url = this.o.url();
    if (!url || this.#closed) return;
    const [subject, text] = (EVENT_TEXT[e.event] as (e: GatewayEvent) => [string, string])(e);
    const id = `${e.event}|${subject}`;
    const now = this.#now();
    const last = this.#recent.get(id);
    if (last !== undefined && now - last < (this.o.repeatMs ?? 600_000)) return;
    this.#recent.set(id, now);
    if (this.#recent.size > 1000) this.#recent.delete(this.#recent.keys().next().value!);
    this.#queue.push({ url, body: JSON.stringify({ ...e, time: new Date(now).toISOString(), text }) });
    if (this.#queue.length > (this.o.maxQueue ?? 100)) this.#queue.shift();
    this.#sending ??= this.#drain().finally(() => this.#sending = undefined);
  }

  /** Waits until the queue is empty (deliveries done or given up). */
  async idle(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  /** Stops: pending retries are abandoned. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#abort.abort();
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next && !this.#closed; next = this.#queue.shift()) {
      await this.#deliver(next);
    }
  }

  async #deliver(p: Pending): Promise<void> {
    const attempts = this.o.maxAttempts ?? 5;
    let problem = "";
    for (let i = 0; i < attempts && !this.#closed; i++) {
      if (i > 0) await this.#sleep((this.o.retryBaseMs ?? 1000) * 2 ** (i - 1));
      try {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.o.timeoutMs ?? 10_000)]);
        const res = await fetch(p.url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "gemini-gateway-webhook" },
          body: p.body,
          signal,
        });
        await res.body?.cancel();
        if (res.ok) return;
        problem = `HTTP ${res.status}`;
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
    }
    if (!this.#closed) {
      console.error(`webhook: gave up after ${attempts} attempts (${problem}); check WEBHOOK_URL.`);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#abort.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}
