/**
 * The live key table of the Keys page. Receives the initial rows as props, then follows
 * `/admin/events` (SSE `keys` events carrying `{ now, keys }`) and counts cooldowns down each second.
 *
 * @module
 */
import { useComputed, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { KeyView } from "../lib/admin/deps.ts";
import {
  activeCooldowns,
  COOLDOWN_KIND_LABELS,
  effectiveState,
  formatCount,
  formatRemaining,
  KEY_STATE_LABELS,
} from "../lib/admin/key_format.ts";

/** Props of {@link KeyStates}. */
export interface KeyStatesProps {
  /** Rows at render time. */
  initial: KeyView[];
  /** Server clock at render time (epoch ms); cooldowns count down from it. */
  serverNow: number;
  /** SSE endpoint sending `event: keys`. */
  eventsUrl: string;
}

type Link = "connecting" | "live" | "reconnecting" | "offline";
const LINK_LABELS: Record<Link, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline · reload the page",
};

/** Island: the key table with live states and cooldown countdowns. */
export function KeyStates({ initial, serverNow, eventsUrl }: KeyStatesProps) {
  const keys = useSignal(initial);
  const now = useSignal(serverNow);
  const link = useSignal<Link>("connecting");
  const counts = useComputed(() => {
    const c = { active: 0, cooling: 0, disabled: 0 };
    for (const k of keys.value) c[effectiveState(k, now.value)]++;
    return c;
  });

  useEffect(() => {
    let offset = 0;
    now.value = Date.now();
    const tick = setInterval(() => now.value = Date.now() + offset, 1000);
    const events = new EventSource(eventsUrl);
    events.addEventListener("open", () => link.value = "live");
    events.addEventListener("error", () => {
      // CLOSED means the server refused the stream (e.g. the session expired): no more retries.
      link.value = events.readyState === EventSource.CLOSED ? "offline" : "reconnecting";
    });
    events.addEventListener("keys", (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { now: number; keys: KeyView[] };
      offset = data.now - Date.now();
      now.value = data.now;
      keys.value = data.keys;
      link.value = "live";
    });
    return () => {
      clearInterval(tick);
      events.close();
    };
  }, [eventsUrl]);

  const t = now.value;
  return (
    <section class="panel">
      <header class="panel-head">
        <p class="summary">
          <strong>{keys.value.length}</strong> {keys.value.length === 1 ? "key" : "keys"}
          <span class="sep">·</span>
          <span data-count="active">{counts.value.active} active</span>
          <span class="sep">·</span>
          <span data-count="cooling">{counts.value.cooling} cooling</span>
          <span class="sep">·</span>
          <span data-count="disabled">{counts.value.disabled} disabled</span>
        </p>
        <span class={`live live-${link.value}`} data-link={link.value}>
          <span class="live-dot" aria-hidden="true"></span>
          {LINK_LABELS[link.value]}
        </span>
      </header>
      {keys.value.length === 0 ? <p class="empty">No keys in the pool yet.</p> : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">State</th>
                <th scope="col">Cooldowns</th>
                <th scope="col" class="num">Today</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {keys.value.map((key) => <KeyRow key={key.id} row={key} now={t} />)}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function KeyRow({ row, now }: { row: KeyView; now: number }) {
  const state = effectiveState(row, now);
  const badge = KEY_STATE_LABELS[state];
  const cooldowns = activeCooldowns(row, now);
  const usage = row.usageToday;
  return (
    <tr data-key-id={row.id}>
      <td>
        <div class="key-name">{row.label ?? row.id}</div>
        <code class="key-masked">{row.masked}</code>
        {row.project && <div class="muted small">{row.project}</div>}
      </td>
      <td>
        <span class={`badge badge-${badge.tone}`} data-state={state}>{badge.label}</span>
        {state === "disabled" && row.disabledReason && <div class="muted small">{row.disabledReason}</div>}
      </td>
      <td>
        {cooldowns.length === 0 ? <span class="muted">—</span> : (
          <ul class="cooldowns">
            {cooldowns.map((c) => (
              <li key={`${c.model}:${c.kind}`} title={c.reason}>
                <span class="model">{c.model}</span>
                <span class="muted">{COOLDOWN_KIND_LABELS[c.kind]}</span>
                <span class="countdown" data-countdown={c.model}>{formatRemaining(c.until - now)}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td class="num">
        {usage
          ? (
            <>
              <div>{formatCount(usage.requests)} req</div>
              <div class="muted small">
                {formatCount(usage.ok)} ok · {formatCount(usage.rateLimited)} limited
              </div>
            </>
          )
          : <span class="muted">—</span>}
      </td>
      <td class="error-cell" title={row.lastError}>
        {row.lastError ? <span class="error-text">{row.lastError}</span> : <span class="muted">—</span>}
      </td>
    </tr>
  );
}
