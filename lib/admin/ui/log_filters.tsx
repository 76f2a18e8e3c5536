/**
 * The filter bar of the Logs page: time range, status, model, key id and token name.
 *
 * @module
 */

/** Filter values as the inputs hold them. */
export interface LogFilters {
  /** `datetime-local` values. */
  from: string;
  to: string;
  /** "", "ok", "error" or an HTTP status. */
  status: string;
  model: string;
  keyId: string;
  token: string;
}

/** No filters. */
export const EMPTY_FILTERS: LogFilters = { from: "", to: "", status: "", model: "", keyId: "", token: "" };

const STATUSES: Array<[string, string]> = [
  ["", "Any status"],
  ["ok", "Successful"],
  ["error", "Failed"],
  ["400", "400 Bad request"],
  ["401", "401 Unauthorized"],
  ["403", "403 Forbidden"],
  ["404", "404 Not found"],
  ["429", "429 Rate limited"],
  ["500", "500 Server error"],
  ["502", "502 Bad gateway"],
  ["503", "503 Unavailable"],
  ["504", "504 Timeout"],
];

/** Props of {@link LogFilterBar}. */
export interface LogFilterBarProps {
  value: LogFilters;
  onChange: (v: LogFilters) => void;
  onApply: () => void;
  /** Shown when filters are set. */
  onClear?: () => void;
}

/** The filter bar (applies on submit). */
export function LogFilterBar({ value, onChange, onApply, onClear }: LogFilterBarProps) {
  const set = (k: keyof LogFilters) => (e: Event) =>
    onChange({ ...value, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply();
      }}
      data-log-filters
    >
      <label class="filter">
        <span>From</span>
        <input type="datetime-local" name="from" value={value.from} onInput={set("from")} />
      </label>
      <label class="filter">
        <span>To</span>
        <input type="datetime-local" name="to" value={value.to} onInput={set("to")} />
      </label>
      <label class="filter">
        <span>Status</span>
        <select name="status" value={value.status} onChange={set("status")}>
          {STATUSES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </label>
      <label class="filter">
        <span>Model</span>
        <input name="model" placeholder="any" value={value.model} onInput={set("model")} />
      </label>
      <label class="filter">
        <span>Key id</span>
        <input name="keyId" placeholder="any" value={value.keyId} onInput={set("keyId")} />
      </label>
      <label class="filter">
        <span>Token</span>
        <input name="token" placeholder="any" value={value.token} onInput={set("token")} />
      </label>
      <div class="filter-actions">
        <button type="submit" class="button small primary" data-action="filter">Filter</button>
        {onClear && <button type="button" class="button small" onClick={onClear}>Clear</button>}
      </div>
    </form>
  );
}
