/**
 * The Logs page island: request log, error log and audit log tabs, filters (time range, status,
 * outcome, model, key, token) sent to `GET /logs`, "load more" by cursor, and a detail view
 * (`GET /logs/:id`) with the error body pretty-printed. The audit tab reads `GET /audit`.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiCall, messageOf } from "../lib/admin/api_client.ts";
import type { AuditEntry, AuditListResponse, LogEntry, LogListResponse } from "../lib/admin/api_types.ts";
import { type MessageKey, t, tn } from "../lib/admin/i18n.ts";
import { EMPTY_FILTERS, LogFilterBar, type LogFilters } from "../lib/admin/ui/log_filters.tsx";
import { AuditTable, LogDetail, LogTable } from "../lib/admin/ui/log_table.tsx";

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

type Kind = "request" | "error" | "audit";

const KINDS: ReadonlyArray<{ kind: Kind; label: MessageKey }> = [
  { kind: "request", label: "logs.tab.requests" },
  { kind: "error", label: "logs.tab.errors" },
  { kind: "audit", label: "logs.tab.audit" },
];

/** Island: the log viewer. */
export function LogViewer(props: LogViewerProps) {
  const kind = useSignal<Kind>("request");
  const filters = useSignal<LogFilters>(EMPTY_FILTERS);
  const entries = useSignal<LogEntry[]>([]);
  const next = useSignal<string | undefined>(undefined);
  const loading = useSignal(true);
  const error = useSignal("");
  const detail = useSignal<LogEntry | null>(null);
  const audit = useSignal<AuditEntry[]>([]);

  const query = (cursor?: string) => {
    const f = filters.value;
    const time = (v: string) => v ? String(new Date(v).getTime()) : undefined;
    return {
      kind: kind.value,
      from: time(f.from),
      to: time(f.to),
      status: f.status,
      outcome: f.outcome,
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
      if (kind.value === "audit") {
        const r = await apiCall<AuditListResponse>(props.apiBase, "/audit", {
          query: { limit: 50, cursor: more ? next.value : undefined },
        });
        audit.value = more ? [...audit.value, ...r.entries] : r.entries;
        next.value = r.next;
        return;
      }
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
  const isAudit = kind.value === "audit";
  const shown = isAudit ? audit.value.length : entries.value.length;

  return (
    <div class="stack">
      <p class="retention muted small" data-retention>
        {props.logsEnabled === false ? `${t("logs.off")} ` : ""}
        {props.retentionHours !== undefined
          ? `${t("logs.kept", { time: formatHours(props.retentionHours) })} `
          : `${t("logs.keptConfigured")} `}
        <a href={props.settingsHref}>{t("logs.changeRetention")}</a>
      </p>
      <section class="panel">
        <div class="toolbar">
          <div class="toolbar-row">
            <div class="tabs" role="tablist" aria-label={t("logs.tabs")}>
              {KINDS.map(({ kind: k, label }) => (
                <button
                  key={k}
                  type="button"
                  role="tab"
                  aria-selected={kind.value === k}
                  class={kind.value === k ? "tab active" : "tab"}
                  data-log-kind={k}
                  onClick={() => setKind(k)}
                >
                  {t(label)}
                </button>
              ))}
            </div>
          </div>
          {isAudit ? <p class="muted small">{t("audit.about")}</p> : (
            <LogFilterBar
              value={filters.value}
              onChange={(v) => filters.value = v}
              onApply={() => load()}
              onClear={active ? () => filterBy(EMPTY_FILTERS) : undefined}
            />
          )}
        </div>
        {error.value && <p class="alert inset" role="alert">{error.value}</p>}
        {shown === 0 && !loading.value
          ? (
            <div class="empty-state" data-empty>
              <h2>
                {isAudit
                  ? t("audit.empty")
                  : active
                  ? t("logs.empty.filtered")
                  : kind.value === "error"
                  ? t("logs.empty.errors")
                  : t("logs.empty.requests")}
              </h2>
              <p class="muted">
                {isAudit ? t("audit.empty.text") : active ? t("logs.empty.widen") : t("logs.empty.text")}
              </p>
            </div>
          )
          : isAudit
          ? <AuditTable entries={audit.value} />
          : <LogTable entries={entries.value} onOpen={open} onFilter={filterBy} />}
        <footer class="pager">
          <span class="muted" data-log-count>
            {tn("logs.entries", shown)}
            {loading.value && <span class="spinner" aria-label={t("common.loading")} />}
          </span>
          {next.value && (
            <button
              type="button"
              class="button small"
              disabled={loading.value}
              onClick={() => load(true)}
              data-action="more"
            >
              {t("logs.more")}
            </button>
          )}
        </footer>
      </section>
      {detail.value && <LogDetail entry={detail.value} onClose={() => detail.value = null} />}
    </div>
  );
}

function formatHours(h: number): string {
  return h % 24 === 0 ? tn("duration.days", h / 24) : tn("duration.hours", h);
}
