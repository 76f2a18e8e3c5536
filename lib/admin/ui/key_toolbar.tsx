/**
 * Toolbar pieces of the Keys page: search, state filter tabs with counts, sort, live indicator,
 * bulk actions for the selection, the verification progress bar and the pager.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { KeyCounts, KeyListQuery } from "../api_types.ts";
import { formatInt } from "../format.ts";
import { PAGE_SIZES } from "../key_query.ts";
import type { RowAction } from "./key_table.tsx";
import type { VerifyProgress } from "./key_verify.ts";

/** Props of {@link KeyToolbar}. */
export interface KeyToolbarProps {
  query: KeyListQuery;
  counts: KeyCounts;
  link: string;
  linkLabel: string;
  verifying: boolean;
  onQuery: (patch: Partial<KeyListQuery>) => void;
  onAdd: () => void;
  onVerifyAll: () => void;
}

const FILTERS: Array<{ state: KeyListQuery["state"]; label: string }> = [
  { state: "", label: "All" },
  { state: "active", label: "Active" },
  { state: "cooling", label: "Cooling down" },
  { state: "disabled", label: "Disabled" },
];

/** Search, filters, sort and the page-level buttons. */
export function KeyToolbar(props: KeyToolbarProps) {
  const timer = useRef<ReturnType<typeof setTimeout>>();
  // The box keeps what is typed; the query follows 250 ms later (re-renders must not reset it).
  const [search, setSearch] = useState(props.query.search);
  useEffect(() => () => clearTimeout(timer.current), []);
  const c = props.counts;
  const all = c.active + c.cooling + c.disabled;
  const countOf = (s: KeyListQuery["state"]) => s ? c[s] : all;
  return (
    <div class="toolbar">
      <div class="toolbar-row">
        <div class="tabs" role="tablist" aria-label="Filter by state">
          {FILTERS.map((f) => (
            <button
              key={f.state}
              type="button"
              role="tab"
              aria-selected={props.query.state === f.state}
              class={props.query.state === f.state ? "tab active" : "tab"}
              data-filter={f.state || "all"}
              onClick={() => props.onQuery({ state: f.state })}
            >
              {f.label}
              <span class="tab-count" data-count={f.state || "all"}>{formatInt(countOf(f.state))}</span>
            </button>
          ))}
        </div>
        <div class="toolbar-actions">
          <span class={`live live-${props.link}`} data-link={props.link}>
            <span class="live-dot" aria-hidden="true"></span>
            {props.linkLabel}
          </span>
          <button
            type="button"
            class="button"
            disabled={props.verifying || all === 0}
            onClick={props.onVerifyAll}
            data-action="verify-all"
          >
            Verify all
          </button>
          <button type="button" class="button primary" onClick={props.onAdd} data-action="add-keys">
            Add keys
          </button>
        </div>
      </div>
      <div class="toolbar-row">
        <input
          type="search"
          class="search"
          placeholder="Search label, project, key id or reason"
          aria-label="Search keys"
          value={search}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setSearch(value);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => props.onQuery({ search: value }), 250);
          }}
        />
        <label class="inline-label">
          Sort by
          <select
            value={props.query.sort}
            onChange={(e) => props.onQuery({ sort: e.currentTarget.value as KeyListQuery["sort"] })}
          >
            <option value="added">Date added</option>
            <option value="state">State</option>
            <option value="label">Label</option>
            <option value="requests">Requests today</option>
          </select>
        </label>
      </div>
    </div>
  );
}

/** Bulk actions for the selected keys. */
export function SelectionBar(
  props: { count: number; onAction: (a: RowAction) => void; onClear: () => void },
) {
  const btn = (a: RowAction, label: string, cls = "button small") => (
    <button
      type="button"
      class={cls}
      onClick={() => props.onAction(a)}
      data-bulk={a}
    >
      {label}
    </button>
  );
  return (
    <div class="selection-bar" data-selection>
      <strong>{props.count} selected</strong>
      <div class="selection-actions">
        {btn("verify", "Verify")}
        {btn("enable", "Enable")}
        {btn("disable", "Disable")}
        {btn("reset", "Reset cooldowns")}
        {btn("edit", "Label & limits")}
        {btn("delete", "Delete", "button small danger")}
        <button type="button" class="link-button" onClick={props.onClear}>Clear</button>
      </div>
    </div>
  );
}

/** Progress of a verification run. */
export function VerifyBar({ progress: p, onDismiss }: { progress: VerifyProgress; onDismiss: () => void }) {
  return (
    <div class="verify-bar" data-verify={p.done ? "done" : "running"}>
      <div class="verify-text">
        <strong>{p.done ? "Verification finished" : "Verifying keys…"}</strong>
        <span class="muted" data-verify-summary>
          {formatInt(p.processed)} / {formatInt(p.total)} · {p.valid} valid · {p.disabled.length} disabled
          {p.enabled.length > 0 && ` · ${p.enabled.length} re-enabled`}
          {p.failed > 0 && ` · ${p.failed} could not be checked`}
        </span>
        {p.done && (
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={onDismiss}>×</button>
        )}
      </div>
      <progress max={Math.max(1, p.total)} value={p.processed} aria-label="Verification progress" />
    </div>
  );
}

/** Props of {@link Pager}. */
export interface PagerProps {
  total: number;
  offset: number;
  limit: number;
  loading: boolean;
  onPage: (offset: number) => void;
  onLimit: (limit: number) => void;
}

/** "1–50 of 10,000" with previous/next and page size. */
export function Pager(p: PagerProps) {
  const from = p.total === 0 ? 0 : p.offset + 1;
  const to = Math.min(p.total, p.offset + p.limit);
  return (
    <footer class="pager">
      <span class="muted" data-range>
        {p.total === 0 ? "No keys" : `${formatInt(from)}–${formatInt(to)} of ${formatInt(p.total)}`}
        {p.loading && <span class="spinner" aria-label="Loading" />}
      </span>
      <div class="pager-actions">
        <label class="inline-label">
          Rows
          <select value={String(p.limit)} onChange={(e) => p.onLimit(Number(e.currentTarget.value))}>
            {PAGE_SIZES.map((n) => <option key={n} value={String(n)}>{n}</option>)}
          </select>
        </label>
        <button
          type="button"
          class="button small"
          disabled={p.offset === 0}
          onClick={() => p.onPage(Math.max(0, p.offset - p.limit))}
          data-page="prev"
        >
          Previous
        </button>
        <button
          type="button"
          class="button small"
          disabled={to >= p.total}
          onClick={() => p.onPage(p.offset + p.limit)}
          data-page="next"
        >
          Next
        </button>
      </div>
    </footer>
  );
}
