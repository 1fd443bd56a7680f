/** Durations as written in configs: `500ms`, `90s`, `15m`, `12h`, `7d`, `2w`, or a number of seconds. */
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds, or undefined when the text is not a duration. A duration is a whole number of
 * microseconds (the finest unit every warehouse's timestamps hold), so `1.5s` is one and
 * `0.0000001s` is not: it renders exactly on every dialect (exactUnit).
 */
export function parseDuration(text: unknown): number | undefined {
  let seconds: number | undefined;
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0) seconds = text;
  else if (typeof text === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|[smhdw]?)\s*$/.exec(text);
    if (m) seconds = Number(m[1]) * UNIT_SECONDS[m[2] || 's'];
  }
  if (seconds === undefined || !Number.isSafeInteger(Math.round(seconds * 1e6))) return undefined;
  return Math.abs(seconds * 1e6 - Math.round(seconds * 1e6)) < 1e-6 ? Math.round(seconds * 1e6) / 1e6 : undefined;
}

export const DURATION_HELP = "a duration such as '500ms', '90s', '1.5s', '15m', '12h', '7d', '2w' or a number of seconds (whole microseconds)";

/** The largest unit that holds a duration a whole number of times, for SQL intervals: exact to the microsecond. */
export function exactUnit(seconds: number): { count: number; unit: 'day' | 'hour' | 'minute' | 'second' | 'microsecond' } {
  const micros = Math.round(seconds * 1e6);
  if (micros % 86_400_000_000 === 0) return { count: micros / 86_400_000_000, unit: 'day' };
  if (micros % 3_600_000_000 === 0) return { count: micros / 3_600_000_000, unit: 'hour' };
  if (micros % 60_000_000 === 0) return { count: micros / 60_000_000, unit: 'minute' };
  if (micros % 1_000_000 === 0) return { count: micros / 1_000_000, unit: 'second' };
  return { count: micros, unit: 'microsecond' };
}
