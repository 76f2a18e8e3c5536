/**
 * The gateway's Live API sessions: admission (on/off, sessions per client token, shutdown), the open
 * sessions, the per-key session counts and the pinned credentials they share, and the drain on
 * shutdown (a `goAway` to every client, then a 1001 close when the grace period is over).
 *
 * @module
 */
import { GatewayError, notFound, rateLimited } from "../http/errors.ts";
import type { Settings } from "../settings_schema.ts";
import type { LivePins } from "./pins.ts";
import { SessionCounts } from "./session_counts.ts";
import { LiveSession, type SessionDeps, type SessionInit } from "./session.ts";

/** What the sessions need. */
export interface LiveSessionsDeps extends Omit<SessionDeps, "counts" | "settings"> {
  settings: () =>
    & Pick<Settings, "liveEnabled" | "liveMaxSessionsPerToken">
    & ReturnType<SessionDeps["settings"]>;
}

/** How long a drain waits for the clients' close handshakes after closing them (ms). */
const CLOSE_WAIT_MS = 1000;

/** Every Live session of this process. */
export class LiveSessions {
  /** Open sessions per key scope, and the limits learned from Google. */
  readonly counts: SessionCounts;
  /** Ephemeral tokens and resumption handles, pinned to their keys. */
  readonly pins: LivePins;
  readonly #deps: SessionDeps;
  readonly #settings: LiveSessionsDeps["settings"];
  #sessions = new Set<LiveSession>();
  #perToken = new Map<string, number>();
  #idle = new Set<() => void>();
  #draining = false;

  constructor(deps: LiveSessionsDeps) {
    this.counts = new SessionCounts({ pool: deps.pool });
    this.pins = deps.pins;
    this.#settings = deps.settings;
    this.#deps = { ...deps, counts: this.counts };
  }

  /** Sessions open (or being set up) now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions the client token holds now. */
  sessionsOf(tokenName: string): number {
    return this.#perToken.get(tokenName) ?? 0;
  }

  /**
   * Checks that the Live API is switched on.
   *
   * @throws {GatewayError} 404 when `LIVE_ENABLED` is off.
   */
  ensureEnabled(): void {
    if (!this.#settings().liveEnabled) {
      throw notFound("The Live API is switched off on this gateway (LIVE_ENABLED=false).");
    }
  }

  /**
   * Checks that a new session may start, before the WebSocket upgrade.
   *
   * @throws {GatewayError} 404 when the Live API is switched off, 503 while shutting down, 429 when the
   *   client token holds `LIVE_MAX_SESSIONS_PER_TOKEN` sessions.
   */
  admit(tokenName: string): void {
    this.ensureEnabled();
    const s = this.#settings();
    if (this.#draining) {
      throw new GatewayError(503, "The gateway is shutting down; open the session again in a moment.", {
        headers: { "retry-after": "1" },
      });
    }
    const max = s.liveMaxSessionsPerToken;
    const open = this.sessionsOf(tokenName);
    if (max > 0 && open >= max) {
      throw rateLimited(
        `The client token '${tokenName}' holds ${open} Live sessions, the most LIVE_MAX_SESSIONS_PER_TOKEN ` +
          "allows; close one first.",
      );
    }
  }

  /** Starts relaying a session on an upgraded socket (call {@link admit} first). */
  start(init: Omit<SessionInit, "onEnd">): LiveSession {
    const { tokenName } = init;
    this.#perToken.set(tokenName, this.sessionsOf(tokenName) + 1);
    const session = new LiveSession(this.#deps, {
      ...init,
      onEnd: (s) => {
        this.#sessions.delete(s);
        const n = this.sessionsOf(tokenName) - 1;
        if (n > 0) this.#perToken.set(tokenName, n);
        else this.#perToken.delete(tokenName);
        if (this.#sessions.size === 0) { for (const fn of this.#idle) fn(); }
      },
    });
    this.#sessions.add(session);
    return session;
  }

  /**
   * Shutdown: refuses new sessions, tells every open client that the session ends in `graceMs` (a
   * `goAway`), lets sessions run until they end or the grace period is over, then closes the rest with
   * 1001 (going away) and waits briefly for their close handshakes.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    for (const s of this.#sessions) s.goAway(graceMs);
    await this.#whenIdle(graceMs);
    const left = [...this.#sessions];
    for (const s of left) s.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(left.map((s) => s.finished)),
      new Promise((r) => timer = setTimeout(r, CLOSE_WAIT_MS)),
    ]);
    clearTimeout(timer);
  }

  /** Resolves when no session is left, or after `ms`. */
  #whenIdle(ms: number): Promise<void> {
    if (this.#sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#idle.add(done);
    });
  }
}
