/**
 * The key table of the Keys page (a plain component used by the `KeyStates` island): selection
 * checkboxes, masked key with its kind (Gemini API or Vertex AI express), label and project, state badge, per-model cooldowns counting down,
 * today's usage, last error and row actions.
 *
 * @module
 */
import type { ApiKey } from "../api_types.ts";
import { KEY_KINDS } from "../../pool/key_kinds.ts";
import {
  activeCooldowns,
  COOLDOWN_KIND_LABELS,
  effectiveState,
  formatCount,
  formatRemaining,
  KEY_STATE_LABELS,
} from "../key_format.ts";

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
      <table class="table keys-table">
        <thead>
          <tr>
            <th scope="col" class="check">
              <input
                type="checkbox"
                aria-label="Select all keys on this page"
                checked={allOn}
                onChange={(e) => props.onToggleAll(e.currentTarget.checked)}
              />
            </th>
            <th scope="col">Key</th>
            <th scope="col">State</th>
            <th scope="col">Cooldowns</th>
            <th scope="col" class="num">Today</th>
            <th scope="col">Last error</th>
            <th scope="col" class="actions-col">
              <span class="sr-only">Actions</span>
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

function KeyRow({ row, now, checked, busy, onToggle, onAction }: KeyRowProps) {
  const state = effectiveState(row, now);
  const badge = KEY_STATE_LABELS[state];
  const cooldowns = activeCooldowns(row, now);
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
          aria-label={`Select ${row.label ?? row.masked}`}
          checked={checked}
          onChange={() => onToggle(row.id)}
        />
      </td>
      <td>
        {row.label
          ? (
            <>
              <div class="key-name">{row.label}</div>
              <code class="key-masked">{row.masked}</code>
            </>
          )
          : <code class="key-name mono">{row.masked}</code>}
        <span class="badge badge-neutral key-kind" data-kind={row.kind ?? "gemini"}>
          {KEY_KINDS[row.kind ?? "gemini"].label}
        </span>
        {row.project && <div class="muted small">{row.project}</div>}
      </td>
      <td>
        <span class={`badge badge-${badge.tone}`} data-state={state}>{badge.label}</span>
        {state === "disabled" && row.disabledReason && (
          <div class="muted small reason" data-reason>{row.disabledReason}</div>
        )}
        {row.limits && Object.keys(row.limits).length > 0 && (
          <div class="muted small">
            {Object.entries(row.limits).map(([m, l]) => (
              <div key={m}>
                {m}: {[l.rpm && `${l.rpm} rpm`, l.rpd && `${l.rpd} rpd`].filter(Boolean).join(", ")}
              </div>
            ))}
          </div>
        )}
      </td>
      <td>
        {cooldowns.length === 0 ? <span class="muted">—</span> : (
          <ul class="cooldowns">
            {cooldowns.map((c) => (
              <li key={`${c.model}:${c.kind}`} title={c.reason}>
                <span class="model">{c.model}</span>
                <span class="muted">{COOLDOWN_KIND_LABELS[c.kind]}</span>
                <span class="countdown" data-countdown={c.model}>
                  {c.until === null ? "until re-check" : formatRemaining(c.until - now)}
                </span>
              </li>
            ))}
            <li>
              {button("reset", "Reset cooldowns")}
            </li>
          </ul>
        )}
      </td>
      <td class="num">
        {usage && usage.requests > 0
          ? (
            <>
              <div>{formatCount(usage.requests)} req</div>
              <div class="muted small">
                {formatCount(usage.ok)} ok · {formatCount(usage.rateLimited)} limited
              </div>
              <div class="muted small">
                {formatCount(usage.inputTokens)} in · {formatCount(usage.outputTokens)} out
              </div>
            </>
          )
          : <span class="muted">No traffic</span>}
      </td>
      <td class="error-cell" title={row.lastError}>
        {row.lastError ? <span class="error-text">{row.lastError}</span> : <span class="muted">—</span>}
      </td>
      <td class="row-actions">
        <div class="row-actions-inner">
          {button("verify", "Verify")}
          {row.state === "disabled" ? button("enable", "Enable") : button("disable", "Disable")}
          {button("edit", "Edit")}
          {button("delete", "Delete")}
        </div>
      </td>
    </tr>
  );
}
