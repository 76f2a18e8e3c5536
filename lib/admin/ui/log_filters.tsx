/**
 * The filter bar of the Logs page: time range, status, outcome (served, refused by the gateway, the
 * client's mistake, ...), model, key id and token name.
 *
 * @module
 */
import { type MessageKey, t } from "../i18n.ts";

/** Filter values as the inputs hold them. */
export interface LogFilters {
  /** `datetime-local` values. */
  from: string;
  to: string;
  /** "", "ok", "error" or an HTTP status. */
  status: string;
  /** "" or an outcome (`refused`, `client_error`, ...). */
  outcome: string;
  model: string;
  keyId: string;
  token: string;
}

/** No filters. */
export const EMPTY_FILTERS: LogFilters = {
  from: "",
  to: "",
  status: "",
  outcome: "",
  model: "",
  keyId: "",
  token: "",
};

const STATUSES: Array<[string, MessageKey]> = [
  ["", "logs.status.any"],
  ["ok", "logs.status.ok"],
  ["error", "logs.status.error"],
  ["400", "logs.status.400"],
  ["401", "logs.status.401"],
  ["403", "logs.status.403"],
  ["404", "logs.status.404"],
  ["413", "logs.status.413"],
  ["429", "logs.status.429"],
  ["500", "logs.status.500"],
  ["502", "logs.status.502"],
  ["503", "logs.status.503"],
  ["504", "logs.status.504"],
];

/** Outcomes to filter by (`outcome.<id>` names them). */
export const OUTCOME_FILTERS = [
  "",
  "ok",
  "refused",
  "client_error",
  "rate_limited",
  "error",
  "cancelled",
] as const;

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
  const text = (name: "model" | "keyId" | "token", label: MessageKey) => (
    <label class="filter">
      <span>{t(label)}</span>
      <input name={name} placeholder={t("logs.filter.any")} value={value[name]} onInput={set(name)} />
    </label>
  );
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
        <span>{t("logs.filter.from")}</span>
        <input type="datetime-local" name="from" value={value.from} onInput={set("from")} />
      </label>
      <label class="filter">
        <span>{t("logs.filter.to")}</span>
        <input type="datetime-local" name="to" value={value.to} onInput={set("to")} />
      </label>
      <label class="filter">
        <span>{t("logs.filter.status")}</span>
        <select name="status" value={value.status} onChange={set("status")}>
          {STATUSES.map(([v, l]) => <option key={v} value={v}>{t(l)}</option>)}
        </select>
      </label>
      <label class="filter">
        <span>{t("logs.filter.outcome")}</span>
        <select name="outcome" value={value.outcome} onChange={set("outcome")}>
          {OUTCOME_FILTERS.map((o) => (
            <option key={o} value={o}>{o ? t(`outcome.${o}`) : t("logs.status.any")}</option>
          ))}
        </select>
      </label>
      {text("model", "logs.filter.model")}
      {text("keyId", "logs.filter.key")}
      {text("token", "logs.filter.token")}
      <div class="filter-actions">
        <button type="submit" class="button small primary" data-action="filter">
          {t("logs.filter.apply")}
        </button>
        {onClear && <button type="button" class="button small" onClick={onClear}>{t("common.clear")}</button>}
      </div>
    </form>
  );
}
