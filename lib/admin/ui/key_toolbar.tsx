/**
 * Toolbar pieces of the Keys page: search, state filter tabs with counts, sort, live indicator,
 * import and export, bulk actions for the selection, the verification progress bar and the pager.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { KeyCounts, KeyListQuery } from "../api_types.ts";
import { formatInt } from "../format.ts";
import { type MessageKey, t } from "../i18n.ts";
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
  onExport: () => void;
  onVerifyAll: () => void;
}

const FILTERS: Array<{ state: KeyListQuery["state"]; label: MessageKey }> = [
  { state: "", label: "keys.filter.all" },
  { state: "active", label: "key.state.active" },
  { state: "cooling", label: "key.state.cooling" },
  { state: "disabled", label: "key.state.disabled" },
];

const SORTS: Array<{ sort: KeyListQuery["sort"]; label: MessageKey }> = [
  { sort: "added", label: "keys.sort.added" },
  { sort: "state", label: "keys.sort.state" },
  { sort: "label", label: "keys.sort.label" },
  { sort: "requests", label: "keys.sort.requests" },
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
        <div class="tabs tabs-scroll" role="tablist" aria-label={t("keys.filter")}>
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
              {t(f.label)}
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
            {t("keys.verifyAll")}
          </button>
          <button
            type="button"
            class="button"
            disabled={all === 0}
            onClick={props.onExport}
            data-action="export-keys"
          >
            {t("keys.export")}
          </button>
          <button type="button" class="button primary" onClick={props.onAdd} data-action="add-keys">
            {t("keys.add")}
          </button>
        </div>
      </div>
      <div class="toolbar-row">
        <input
          type="search"
          class="search"
          placeholder={t("keys.search.placeholder")}
          aria-label={t("keys.search")}
          value={search}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setSearch(value);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => props.onQuery({ search: value }), 250);
          }}
        />
        <label class="inline-label">
          {t("keys.sort")}
          <select
            value={props.query.sort}
            onChange={(e) => props.onQuery({ sort: e.currentTarget.value as KeyListQuery["sort"] })}
          >
            {SORTS.map((o) => <option key={o.sort} value={o.sort}>{t(o.label)}</option>)}
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
      <strong>{t("keys.selected", { n: formatInt(props.count) })}</strong>
      <div class="selection-actions">
        {btn("verify", t("keys.action.verify"))}
        {btn("enable", t("keys.action.enable"))}
        {btn("disable", t("keys.action.disable"))}
        {btn("reset", t("keys.action.reset"))}
        {btn("edit", t("keys.action.labelLimits"))}
        {btn("delete", t("keys.action.delete"), "button small danger")}
        <button type="button" class="link-button" onClick={props.onClear}>{t("common.clear")}</button>
      </div>
    </div>
  );
}

/** Progress of a verification run. */
export function VerifyBar({ progress: p, onDismiss }: { progress: VerifyProgress; onDismiss: () => void }) {
  return (
    <div class="verify-bar" data-verify={p.done ? "done" : "running"}>
      <div class="verify-text">
        <strong>{p.done ? t("keys.verify.done") : t("keys.verify.running")}</strong>
        <span class="muted" data-verify-summary>
          {t("keys.verify.summary", {
            processed: formatInt(p.processed),
            total: formatInt(p.total),
            valid: formatInt(p.valid),
            disabled: formatInt(p.disabled.length),
          })}
          {p.enabled.length > 0 && ` · ${t("keys.verify.enabled", { n: formatInt(p.enabled.length) })}`}
          {p.failed > 0 && ` · ${t("keys.verify.failed", { n: formatInt(p.failed) })}`}
        </span>
        {p.done && (
          <button type="button" class="icon-button" aria-label={t("common.dismiss")} onClick={onDismiss}>
            ×
          </button>
        )}
      </div>
      <progress max={Math.max(1, p.total)} value={p.processed} aria-label={t("keys.verify.progress")} />
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
        {p.total === 0
          ? t("pager.none")
          : t("pager.range", { from: formatInt(from), to: formatInt(to), total: formatInt(p.total) })}
        {p.loading && <span class="spinner" aria-label={t("common.loading")} />}
      </span>
      <div class="pager-actions">
        <label class="inline-label">
          {t("pager.rows")}
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
          {t("pager.previous")}
        </button>
        <button
          type="button"
          class="button small"
          disabled={to >= p.total}
          onClick={() => p.onPage(p.offset + p.limit)}
          data-page="next"
        >
          {t("pager.next")}
        </button>
      </div>
    </footer>
  );
}
