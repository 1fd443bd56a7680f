/** Durations as written in configs: `90s`, `15m`, `12h`, `7d`, `2w`, or a number of seconds. */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(text: unknown): number | undefined {
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0) return text;
  if (typeof text !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's'];
}

export const DURATION_HELP = "a duration such as '90s', '15m', '12h', '7d', '2w' or a number of seconds";

/** The largest whole unit for a number of seconds, for SQL interval literals. */
export function largestUnit(seconds: number): { count: number; unit: 'day' | 'hour' | 'minute' | 'second' } {
  if (seconds % 86400 === 0) return { count: seconds / 86400, unit: 'day' };
  if (seconds % 3600 === 0) return { count: seconds / 3600, unit: 'hour' };
  if (seconds % 60 === 0) return { count: seconds / 60, unit: 'minute' };
  return { count: seconds, unit: 'second' };
}
