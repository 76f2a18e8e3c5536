/**
 * The key table of the Keys page (a plain component used by the `KeyStates` island): selection
 * checkboxes, masked key with its kind (Gemini API or Vertex AI express), label and project (and a mark
 * for keys from `GEMINI_API_KEYS`), state badge, per-model cooldowns counting down, the limits the pool
 * knows per model with the time until each frees, today's usage, last error and row actions. On a
 * phone every row is a card.
 *
 * @module
 */
import type { ApiKey } from "../api_types.ts";
import { formatInt } from "../format.ts";
import { t } from "../i18n.ts";
import {
  activeCooldowns,
  cooldownKindLabel,
  effectiveState,
  formatCount,
  formatRemaining,
  KEY_STATE_TONES,
  keyStateLabel,
} from "../key_format.ts";

/** The catalogue message naming each key kind (lib/pool/key_kinds.ts). */
const KIND_LABELS = { gemini: "keys.kind.gemini", vertex: "keys.kind.vertex" } as const;

/** A row action. */
export type RowAction = "verify" | "enable" | "disable" | "reset" | "delete" | "edit";

/** Props of {@link KeyTable}. */
export interface KeyTableProps {
  keys: ApiKey[];
  now: number;
  selected: ReadonlySet<string>;
  /** Ids with an action in flight (their buttons are disabled). */
  busy: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onToggleAll: (on: boolean) => void;
  onAction: (action: RowAction, key: ApiKey) => void;
}

/** The key table. */
export function KeyTable(props: KeyTableProps) {
  const allOn = props.keys.length > 0 && props.keys.every((k) => props.selected.has(k.id));
  return (
    <div class="table-wrap">
      <table class="table keys-table cards">
        <thead>
          <tr>
            <th scope="col" class="check">
              <input
                type="checkbox"
                aria-label={t("keys.selectAll")}
                checked={allOn}
                onChange={(e) => props.onToggleAll(e.currentTarget.checked)}
              />
            </th>
            <th scope="col">{t("keys.col.key")}</th>
            <th scope="col">{t("keys.col.state")}</th>
            <th scope="col">{t("keys.col.limits")}</th>
            <th scope="col" class="num">{t("keys.col.today")}</th>
            <th scope="col">{t("keys.col.lastError")}</th>
            <th scope="col" class="actions-col">
              <span class="sr-only">{t("keys.col.actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.keys.map((k) => (
            <KeyRow
              key={k.id}
              row={k}
              now={props.now}
              checked={props.selected.has(k.id)}
              busy={props.busy.has(k.id)}
              onToggle={props.onToggle}
              onAction={props.onAction}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A row action as a link-style button (`data-row-action` names it; delete is styled as danger). */
function ActionButton(props: { action: RowAction; label: string; busy: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      class={props.action === "delete" ? "link-button danger" : "link-button"}
      disabled={props.busy}
      onClick={props.onClick}
      data-row-action={props.action}
    >
      {props.label}
    </button>
  );
}

interface KeyRowProps {
  row: ApiKey;
  now: number;
  checked: boolean;
  busy: boolean;
  onToggle: (id: string) => void;
  onAction: (action: RowAction, key: ApiKey) => void;
}

/** One model's known limits: `5 rpm (learned) · 3 this minute · free in 23s`. */
function QuotaLine({ q, now }: { q: NonNullable<ApiKey["quota"]>[number]; now: number }) {
  const limits = [
    q.rpm && t(q.rpmSource === "learned" ? "quota.rpm.learned" : "quota.rpm", { n: formatInt(q.rpm) }),
    q.rpd && t(q.rpdSource === "learned" ? "quota.rpd.learned" : "quota.rpd", { n: formatInt(q.rpd) }),
  ].filter(Boolean).join(", ");
  const used = q.rpm ? t("quota.usedMinute", { n: formatInt(q.usedThisMinute) }) : "";
  const free = q.freeAt === null
    ? t("quota.blocked")
    : q.freeAt > now
    ? t("quota.freeIn", { time: formatRemaining(q.freeAt - now) })
    : "";
  return (
    <li data-quota={q.model}>
      <span class="model">{q.model}:</span> {limits && <span class="muted">{limits}</span>}
      {used && <span class="muted">{used}</span>}
      {free && <span class="countdown" data-free-in={q.model}>{free}</span>}
    </li>
  );
}

function KeyRow({ row, now, checked, busy, onToggle, onAction }: KeyRowProps) {
  const state = effectiveState(row, now);
  const cooldowns = activeCooldowns(row, now);
  const quota = (row.quota ?? []).filter((q) => q.rpm || q.rpd || (q.freeAt !== null && q.freeAt > now));
  const cooling = new Set(cooldowns.map((c) => c.model));
  const usage = row.usageToday;
  const act = (a: RowAction) => () => onAction(a, row);
  const button = (action: RowAction, label: string) => (
    <ActionButton action={action} label={label} busy={busy} onClick={act(action)} />
  );
  return (
    <tr data-key-id={row.id} class={checked ? "selected" : undefined}>
      <td class="check">
        <input
          type="checkbox"
          aria-label={t("keys.select", { name: row.label ?? row.masked })}
          checked={checked}
          onChange={() => onToggle(row.id)}
        />
      </td>
      <td data-label={t("keys.col.key")}>
        {row.label
          ? (
            <>
              <div class="key-name">{row.label}</div>
              <code class="key-masked">{row.masked}</code>
            </>
          )
          : <code class="key-name mono">{row.masked}</code>}
        <span class="badge badge-neutral key-kind" data-kind={row.kind ?? "gemini"}>
          {t(KIND_LABELS[row.kind ?? "gemini"])}
        </span>
        {row.project && <div class="muted small">{row.project}</div>}
        {row.fromEnv && (
          <span class="chip chip-env" title={t("keys.env.title")} data-env-key>GEMINI_API_KEYS</span>
        )}
      </td>
      <td data-label={t("keys.col.state")}>
        <span class={`badge badge-${KEY_STATE_TONES[state]}`} data-state={state}>{keyStateLabel(state)}</span>
        {state === "disabled" && row.disabledReason && (
          <div class="muted small reason" data-reason>{row.disabledReason}</div>
        )}
      </td>
      <td data-label={t("keys.col.limits")}>
        {cooldowns.length === 0 && quota.length === 0 ? <span class="muted">—</span> : (
          <ul class="cooldowns">
            {cooldowns.map((c) => (
              <li key={`${c.model}:${c.kind}`} title={c.reason}>
                <span class="model">{c.model}</span>
                <span class="muted">{cooldownKindLabel(c.kind)}</span>
                <span class="countdown" data-countdown={c.model}>
                  {c.until === null ? t("cooldown.untilRecheck") : formatRemaining(c.until - now)}
                </span>
              </li>
            ))}
            {quota.filter((q) => !cooling.has(q.model) || q.rpm || q.rpd).map((q) => (
              <QuotaLine key={`q:${q.model}`} q={q} now={now} />
            ))}
            {cooldowns.length > 0 && <li>{button("reset", t("keys.action.reset"))}</li>}
          </ul>
        )}
      </td>
      <td class="num" data-label={t("keys.col.today")}>
        {usage && usage.requests > 0
          ? (
            <>
              <div>{t("keys.usage.requests", { n: formatCount(usage.requests) })}</div>
              <div class="muted small">
                {t("keys.usage.ok", { ok: formatCount(usage.ok), limited: formatCount(usage.rateLimited) })}
              </div>
              <div class="muted small">
                {t("keys.usage.tokens", {
                  input: formatCount(usage.inputTokens),
                  output: formatCount(usage.outputTokens),
                })}
              </div>
            </>
          )
          : <span class="muted">{t("keys.usage.none")}</span>}
      </td>
      <td class="error-cell" title={row.lastError} data-label={t("keys.col.lastError")}>
        {row.lastError ? <span class="error-text">{row.lastError}</span> : <span class="muted">—</span>}
      </td>
      <td class="row-actions">
        <div class="row-actions-inner">
          {button("verify", t("keys.action.verify"))}
          {row.state === "disabled"
            ? button("enable", t("keys.action.enable"))
            : button("disable", t("keys.action.disable"))}
          {button("edit", t("keys.action.edit"))}
          {button("delete", t("keys.action.delete"))}
        </div>
      </td>
    </tr>
  );
}
