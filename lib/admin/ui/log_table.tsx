/**
 * The log table and the log entry detail view (error body pretty-printed when it is JSON).
 *
 * @module
 */
import type { LogEntry } from "../api_types.ts";
import { formatDateTime, formatLatency } from "../format.ts";
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

/** The log table; a row click opens the detail. */
export function LogTable({ entries, onOpen, onFilter }: LogTableProps) {
  const stop = (fn: () => void) => (e: Event) => {
    e.stopPropagation();
    fn();
  };
  return (
    <div class="table-wrap">
      <table class="table logs-table">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Status</th>
            <th scope="col">Request</th>
            <th scope="col">Model</th>
            <th scope="col">Key</th>
            <th scope="col">Token</th>
            <th scope="col" class="num">Latency</th>
            <th scope="col" class="num">Tokens in / out</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} class="clickable" onClick={() => onOpen(e)} data-log-id={e.id}>
              <td class="nowrap">{formatDateTime(e.time)}</td>
              <td>
                <span class={`badge badge-${statusTone(e.status)}`} data-status={e.status}>{e.status}</span>
                {(e.attempts ?? 1) > 1 && <div class="muted small">{e.attempts} attempts</div>}
              </td>
              <td class="path-cell" title={`${e.method ?? ""} ${e.path ?? ""}`}>
                <code>{e.method}</code> <span class="path">{e.path}</span>
                {e.stream && <span class="chip">stream</span>}
              </td>
              <td>
                {e.model
                  ? (
                    <button
                      type="button"
                      class="link-button mono"
                      onClick={stop(() => onFilter({ model: e.model }))}
                    >
                      {e.model}
                    </button>
                  )
                  : <span class="muted">—</span>}
              </td>
              <td>
                {e.keyId
                  ? (
                    <button
                      type="button"
                      class="link-button mono"
                      title="Show only this key"
                      onClick={stop(() => onFilter({ keyId: e.keyId }))}
                    >
                      {e.keyMasked ?? e.keyId}
                    </button>
                  )
                  : <span class="muted">—</span>}
              </td>
              <td>
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
              <td class="num">{formatLatency(e.latencyMs)}</td>
              <td class="num">
                {e.inputTokens || e.outputTokens
                  ? `${formatCount(e.inputTokens ?? 0)} / ${formatCount(e.outputTokens ?? 0)}`
                  : <span class="muted">—</span>}
              </td>
            </tr>
          ))}
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
  const rows: Array<[string, string | undefined]> = [
    ["Time", formatDateTime(e.time)],
    ["Status", String(e.status)],
    ["Route", e.route],
    ["Request", `${e.method ?? ""} ${e.path ?? ""}`],
    ["Model", e.model],
    ["Key", e.keyMasked ? `${e.keyMasked} (${e.keyId})` : e.keyId],
    ["Token", e.tokenName],
    ["Latency", formatLatency(e.latencyMs)],
    ["Attempts", e.attempts === undefined ? undefined : String(e.attempts)],
    ["Streamed", e.stream === undefined ? undefined : e.stream ? "yes" : "no"],
    ["Input tokens", e.inputTokens === undefined ? undefined : String(e.inputTokens)],
    ["Output tokens", e.outputTokens === undefined ? undefined : String(e.outputTokens)],
    ["Entry id", e.id],
  ];
  return (
    <Modal title="Log entry" onClose={onClose} wide>
      <dl class="details" data-log-detail>
        {rows.filter(([, v]) => v).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {e.error !== undefined && e.error !== null && e.error !== "" && (
        <>
          <h3 class="detail-title">Error body</h3>
          <pre class="code-block" data-error-body>{prettyError(e.error)}</pre>
        </>
      )}
    </Modal>
  );
}
