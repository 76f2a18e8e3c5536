/**
 * Display formatting shared by the admin pages and islands: times, durations, percentages, counts,
 * in the page's locale (`i18n.ts`: `en-GB` dates for a British browser, `zh-CN` for Chinese).
 *
 * @module
 */
import { currentLocale, formatNumber, t } from "./i18n.ts";

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(kind: "dateTime" | "date" | "time"): Intl.DateTimeFormat {
  const locale = currentLocale().locale;
  const id = `${locale}|${kind}`;
  let f = dateTimeFormats.get(id);
  if (!f) {
    const date = { year: "numeric", month: "2-digit", day: "2-digit" } as const;
    const time = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" } as const;
    f = new Intl.DateTimeFormat(
      locale,
      kind === "date" ? date : kind === "time" ? time : { ...date, ...time },
    );
    dateTimeFormats.set(id, f);
  }
  return f;
}

/** Date and time in local time, as the locale writes them (`26/11/2026, 09:14:03`, `2026/11/26 09:14:03`). */
export function formatDateTime(ms: number): string {
  return dateFormat("dateTime").format(ms);
}

/** The date in local time, as the locale writes it. */
export function formatDate(ms: number): string {
  return dateFormat("date").format(ms);
}

/** The time of day in local time (`09:14:03`). */
export function formatTime(ms: number): string {
  return dateFormat("time").format(ms);
}

const axisFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A chart's time tick in the locale: the hour and minute (`09:15`), or the month and day (`11/26`,
 * `11月26日`) when ticks are a day or more apart (`stepMs`).
 */
export function formatAxisTime(ms: number, stepMs: number): string {
  const locale = currentLocale().locale;
  const daily = stepMs >= 86_400_000;
  const id = `${locale}|${daily}`;
  let f = axisFormats.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(
      locale,
      daily ? { month: "numeric", day: "numeric" } : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
    );
    axisFormats.set(id, f);
  }
  return f.format(ms);
}

/** Milliseconds as `850 ms` or `2.4 s`; `—` when missing. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  return ms < 1000 ? t("unit.ms", { n: formatNumber(Math.round(ms)) }) : t("unit.s", {
    n: formatNumber(ms / 1000, {
      minimumFractionDigits: ms < 10_000 ? 2 : 1,
      maximumFractionDigits: ms < 10_000 ? 2 : 1,
    }),
  });
}

/** A ratio as `99.2%`; `—` when the denominator is 0. */
export function formatPercent(part: number, whole: number): string {
  if (!whole) return "—";
  const p = part / whole;
  const digits = p * 100 >= 99.95 || p === 0 ? 0 : 1;
  return formatNumber(p, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A whole number with the locale's grouping: 12,345. */
export function formatInt(n: number): string {
  return formatNumber(Math.round(n));
}

/** An amount of money (the price table's currency, unnamed): 2 decimals, 4 below 0.01. */
export function formatMoney(n: number): string {
  const digits = n !== 0 && Math.abs(n) < 0.01 ? 4 : 2;
  return formatNumber(n, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
