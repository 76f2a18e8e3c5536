/**
 * The Logs page island: request log and error log tabs, filters (time range, status, model, key,
 * token) sent to `GET /logs`, "load more" by cursor, and a detail view (`GET /logs/:id`) with the
 * error body pretty-printed.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { LogEntry, LogListResponse } from "../lib/admin/api_types.ts";
import { EMPTY_FILTERS, LogFilterBar, type LogFilters } from "../lib/admin/ui/log_filters.tsx";
import { LogDetail, LogTable } from "../lib/admin/ui/log_table.tsx";

/** Props of {@link LogViewer}. */
export interface LogViewerProps {
  /** Admin JSON API base. */
  apiBase: string;
  /** Link to the retention settings. */
  settingsHref: string;
  /** Hours entries are kept, when known. */
  retentionHours?: number;
  /** Whether the request log is on, when known. */
  logsEnabled?: boolean;
}

type Kind = "request" | "error";

/** Island: the log viewer. */
export function LogViewer(props: LogViewerProps) {
  const kind = useSignal<Kind>("request");
  const filters = useSignal<LogFilters>(EMPTY_FILTERS);
  const entries = useSignal<LogEntry[]>([]);
  const next = useSignal<string | undefined>(undefined);
  const loading = useSignal(true);
  const error = useSignal("");
  const detail = useSignal<LogEntry | null>(null);

  const query = (cursor?: string) => {
    const f = filters.value;
    const time = (v: string) => v ? String(new Date(v).getTime()) : undefined;
    return {
      kind: kind.value,
      from: time(f.from),
      to: time(f.to),
      status: f.status,
      model: f.model.trim(),
      keyId: f.keyId.trim(),
      token: f.token.trim(),
      limit: 50,
      cursor,
    };
  };
  const load = async (more = false) => {
    loading.value = true;
    error.value = "";
    try {
      const r = await apiCall<LogListResponse>(props.apiBase, "/logs", {
        query: query(more ? next.value : undefined),
      });
      entries.value = more ? [...entries.value, ...r.entries] : r.entries;
      next.value = r.next;
    } catch (err) {
      error.value = messageOf(err);
      if (!more) entries.value = [];
    } finally {
      loading.value = false;
    }
  };
  useEffect(() => {
    load();
  }, []);

  const open = async (e: LogEntry) => {
    detail.value = e;
    try {
      detail.value = await apiCall<LogEntry>(props.apiBase, `/logs/${encodeURIComponent(e.id)}`);
    } catch { /* keep the row's data */ }
  };
  const setKind = (k: Kind) => {
    kind.value = k;
    load();
  };
  const filterBy = (patch: Partial<LogFilters>) => {
    filters.value = { ...filters.value, ...patch };
    detail.value = null;
    load();
  };
  const active = Object.values(filters.value).some(Boolean);

  return (
    <div class="stack">
      <p class="retention muted small" data-retention>
        {props.logsEnabled === false ? "The request log is off. " : ""}
        {props.retentionHours !== undefined
          ? `Entries are kept for ${formatHours(props.retentionHours)}. `
          : "Entries are kept for the configured retention. "}
        <a href={props.settingsHref}>Change logging and retention in Settings</a>
      </p>
      <section class="panel">
        <div class="toolbar">
          <div class="toolbar-row">
            <div class="tabs" role="tablist" aria-label="Log">
              {(["request", "error"] as const).map((k) => (
                <button
                  key={k}
                  type="button"
                  role="tab"
                  aria-selected={kind.value === k}
                  class={kind.value === k ? "tab active" : "tab"}
                  data-log-kind={k}
                  onClick={() => setKind(k)}
                >
                  {k === "request" ? "Requests" : "Errors"}
                </button>
              ))}
            </div>
          </div>
          <LogFilterBar
            value={filters.value}
            onChange={(v) => filters.value = v}
            onApply={() => load()}
            onClear={active ? () => filterBy(EMPTY_FILTERS) : undefined}
          />
        </div>
        {error.value && <p class="alert inset" role="alert">{error.value}</p>}
        {entries.value.length === 0 && !loading.value
          ? (
            <div class="empty-state" data-empty>
              <h2>
                {active
                  ? "No entries match these filters"
                  : kind.value === "error"
                  ? "No errors logged"
                  : "No requests logged yet"}
              </h2>
              <p class="muted">
                {active
                  ? "Widen the time range or clear the filters."
                  : "Entries appear here as clients call the gateway."}
              </p>
            </div>
          )
          : <LogTable entries={entries.value} onOpen={open} onFilter={filterBy} />}
        <footer class="pager">
          <span class="muted" data-log-count>
            {entries.value.length} {entries.value.length === 1 ? "entry" : "entries"}
            {loading.value && <span class="spinner" aria-label="Loading" />}
          </span>
          {next.value && (
            <button
              type="button"
              class="button small"
              disabled={loading.value}
              onClick={() => load(true)}
              data-action="more"
            >
              Load more
            </button>
          )}
        </footer>
      </section>
      {detail.value && <LogDetail entry={detail.value} onClose={() => detail.value = null} />}
    </div>
  );
}

function formatHours(h: number): string {
  return h % 24 === 0 ? `${h / 24} ${h === 24 ? "day" : "days"}` : `${h} ${h === 1 ? "hour" : "hours"}`;
}
