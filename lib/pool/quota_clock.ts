/**
 * Google resets per-day quotas at midnight in America/Los_Angeles (daylight saving included).
 *
 * @module
 */

const FORMAT = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

function pacificParts(t: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of FORMAT.formatToParts(new Date(t))) if (p.type !== "literal") out[p.type] = Number(p.value);
  return out;
}

/** Offset of Pacific wall-clock time from UTC at instant `t`, in ms (negative: -7h or -8h). */
function pacificOffset(t: number): number {
  const p = pacificParts(t);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

let cachedMinute = NaN;
let cachedDay = "";

/** The Pacific calendar day of instant `t`, as `YYYY-MM-DD` (the day a per-day quota counts). */
export function pacificDay(t: number): string {
  // Days change on a minute boundary, so one formatting per minute is exact (and cheap on the hot path).
  const minute = Math.floor(t / 60_000);
  if (minute === cachedMinute) return cachedDay;
  const p = pacificParts(t);
  cachedDay = `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
  cachedMinute = minute;
  return cachedDay;
}

/** The first midnight in America/Los_Angeles strictly after instant `now` (epoch ms). */
export function nextPacificMidnight(now: number): number {
  const p = pacificParts(now);
  const wallMidnight = Date.UTC(p.year, p.month - 1, p.day + 1, 0, 0, 0);
  let t = wallMidnight - pacificOffset(now);
  // The offset may differ at midnight (a DST change that day); one correction settles it.
  t = wallMidnight - pacificOffset(t);
  return t;
}
