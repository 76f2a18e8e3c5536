/**
 * The log table (the route the client called, the model it asked for and the one used, the client's
 * address, aggregated refusals as one row with a count), the log entry detail view (error body
 * pretty-printed when it is JSON) and the audit log table. On a phone every row is a card.
 *
 * @module
 */
import type { AuditEntry, LogEntry } from "../api_types.ts";
import { formatDateTime, formatInt, formatLatency } from "../format.ts";
import { type MessageKey, t } from "../i18n.ts";
import { formatCount } from "../key_format.ts";
import type { LogFilters } from "./log_filters.tsx";
import { Modal } from "./modal.tsx";

/** Badge tone of an HTTP status. */
export function statusTone(status: number): string {
  if (status < 400) return "ok";
  if (status === 429) return "warn";
  return "bad";
}

/** Props of {@link LogTable}. */
export interface LogTableProps {
  entries: LogEntry[];
  onOpen: (e: LogEntry) => void;
  onFilter: (patch: Partial<LogFilters>) => void;
}

/** What the client called: its own method and path when known, else the upstream call. */
function clientRequest(e: LogEntry): { method?: string; path?: string } {
  return e.clientPath ? { method: e.clientMethod, path: e.clientPath } : { method: e.method, path: e.path };
}

/** The log table; a row click opens the detail. */
export function LogTable({ entries, onOpen, onFilter }: LogTableProps) {
  const stop = (fn: () => void) => (e: Event) => {
    e.stopPropagation();
    fn();
  };
  const col = {
    time: t("logs.col.time"),
    status: t("logs.col.status"),
    request: t("logs.col.request"),
    model: t("logs.col.model"),
    key: t("logs.col.key"),
    token: t("logs.col.token"),
    latency: t("logs.col.latency"),
    tokens: t("logs.col.tokens"),
  };
  return (
    <div class="table-wrap">
      <table class="table logs-table cards">
        <thead>
          <tr>
            <th scope="col">{col.time}</th>
            <th scope="col">{col.status}</th>
            <th scope="col">{col.request}</th>
            <th scope="col">{col.model}</th>
            <th scope="col">{col.key}</th>
            <th scope="col">{col.token}</th>
            <th scope="col" class="num">{col.latency}</th>
            <th scope="col" class="num">{col.tokens}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => {
            const req = clientRequest(e);
            return (
              <tr key={e.id} class="clickable" onClick={() => onOpen(e)} data-log-id={e.id}>
                <td class="nowrap" data-label={col.time}>{formatDateTime(e.time)}</td>
                <td data-label={col.status}>
                  <span class={`badge badge-${statusTone(e.status)}`} data-status={e.status}>{e.status}</span>
                  {e.refusal && (
                    <div class="muted small" data-refusal={e.refusal}>
                      {t(`refusal.${e.refusal}` as MessageKey)}
                    </div>
                  )}
                  {(e.count ?? 1) > 1 && (
                    <div class="chip" data-count={e.count} title={t("logs.aggregated")}>
                      ×{formatInt(e.count!)}
                    </div>
                  )}
                  {(e.attempts ?? 1) > 1 && (
                    <div class="muted small">{t("logs.attempts", { n: e.attempts })}</div>
                  )}
                </td>
                <td
                  class="path-cell"
                  title={`${req.method ?? ""} ${req.path ?? ""}`}
                  data-label={col.request}
                >
                  <code>{req.method}</code> <span class="path" data-client-path>{req.path}</span>
                  {e.stream && <span class="chip">{t("logs.stream")}</span>}
                  {e.source && <div class="muted small mono" data-source>{e.source}</div>}
                </td>
                <td data-label={col.model}>
                  {e.model || e.clientModel
                    ? (
                      <>
                        {e.clientModel && e.clientModel !== e.model && (
                          <span class="mono small" data-client-model>{e.clientModel} →</span>
                        )}
                        {e.model && (
                          <button
                            type="button"
                            class="link-button mono"
                            onClick={stop(() => onFilter({ model: e.model }))}
                          >
                            {e.model}
                          </button>
                        )}
                      </>
                    )
                    : <span class="muted">—</span>}
                </td>
                <td data-label={col.key}>
                  {e.keyId
                    ? (
                      <button
                        type="button"
                        class="link-button mono"
                        title={t("logs.onlyKey")}
                        onClick={stop(() => onFilter({ keyId: e.keyId }))}
                      >
                        {e.keyMasked ?? e.keyId}
                      </button>
                    )
                    : <span class="muted">—</span>}
                </td>
                <td data-label={col.token}>
                  {e.tokenName
                    ? (
                      <button
                        type="button"
                        class="link-button"
                        onClick={stop(() => onFilter({ token: e.tokenName }))}
                      >
                        {e.tokenName}
                      </button>
                    )
                    : <span class="muted">—</span>}
                </td>
                <td class="num" data-label={col.latency}>{formatLatency(e.latencyMs)}</td>
                <td class="num" data-label={col.tokens}>
                  {e.inputTokens || e.outputTokens
                    ? `${formatCount(e.inputTokens ?? 0)} / ${formatCount(e.outputTokens ?? 0)}`
                    : <span class="muted">—</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A log error body as readable text: JSON pretty-printed, other text as is. */
export function prettyError(error: unknown): string {
  if (typeof error !== "string") return JSON.stringify(error, null, 2);
  try {
    return JSON.stringify(JSON.parse(error), null, 2);
  } catch {
    return error;
  }
}

/** The detail of one entry. */
export function LogDetail({ entry: e, onClose }: { entry: LogEntry; onClose: () => void }) {
  const req = clientRequest(e);
  const rows: Array<[MessageKey, string | undefined]> = [
    ["logs.detail.time", formatDateTime(e.time)],
    ["logs.detail.status", String(e.status)],
    ["logs.detail.outcome", e.outcome ? t(`outcome.${e.outcome}` as MessageKey) : undefined],
    ["logs.detail.refusal", e.refusal ? t(`refusal.${e.refusal}` as MessageKey) : undefined],
    ["logs.detail.count", (e.count ?? 1) > 1 ? formatInt(e.count!) : undefined],
    ["logs.detail.route", e.route],
    ["logs.detail.request", `${req.method ?? ""} ${req.path ?? ""}`],
    ["logs.detail.upstream", e.clientPath ? `${e.method ?? ""} ${e.path ?? ""}` : undefined],
    ["logs.detail.clientModel", e.clientModel],
    ["logs.detail.model", e.model],
    ["logs.detail.source", e.source],
    ["logs.detail.key", e.keyMasked ? `${e.keyMasked} (${e.keyId})` : e.keyId],
    ["logs.detail.token", e.tokenName],
    ["logs.detail.latency", formatLatency(e.latencyMs)],
    ["logs.detail.attempts", e.attempts === undefined ? undefined : String(e.attempts)],
    [
      "logs.detail.streamed",
      e.stream === undefined ? undefined : e.stream ? t("common.yes") : t("common.no"),
    ],
    ["logs.detail.input", e.inputTokens === undefined ? undefined : String(e.inputTokens)],
    ["logs.detail.output", e.outputTokens === undefined ? undefined : String(e.outputTokens)],
    ["logs.detail.id", e.id],
  ];
  return (
    <Modal title={t("logs.detail.title")} onClose={onClose} wide>
      <dl class="details" data-log-detail>
        {rows.filter(([, v]) => v).map(([k, v]) => (
          <div key={k}>
            <dt>{t(k)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {e.error !== undefined && e.error !== null && e.error !== "" && (
        <>
          <h3 class="detail-title">{t("logs.detail.error")}</h3>
          <pre class="code-block" data-error-body>{prettyError(e.error)}</pre>
        </>
      )}
    </Modal>
  );
}

/** The audit log: who did what, when, from where. */
export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  const col = {
    time: t("logs.col.time"),
    who: t("audit.col.who"),
    action: t("audit.col.action"),
    summary: t("audit.col.summary"),
  };
  return (
    <div class="table-wrap">
      <table class="table cards audit-table" data-audit>
        <thead>
          <tr>
            <th scope="col">{col.time}</th>
            <th scope="col">{col.who}</th>
            <th scope="col">{col.action}</th>
            <th scope="col">{col.summary}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} data-audit-action={e.action}>
              <td class="nowrap" data-label={col.time}>{formatDateTime(e.time)}</td>
              <td data-label={col.who}>
                <div>{e.actor}</div>
                <div class="muted small mono">{e.address}</div>
              </td>
              <td data-label={col.action}>
                <code>{e.action}</code>
                {e.status >= 400 && <span class="badge badge-bad">{e.status}</span>}
              </td>
              <td class="summary-cell" data-label={col.summary}>{e.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
