/** The common value and type set every warehouse and online store maps to. */
export type ScalarType = 'int64' | 'float64' | 'string' | 'boolean' | 'timestamp';
export interface DataType {
  type: ScalarType | 'array';
  elementType?: DataType;
}

/** A UTC instant with microsecond precision (warehouse timestamps carry microseconds; Date does not). */
export class Timestamp {
  constructor(readonly micros: bigint) {}

  static fromDate(d: Date): Timestamp {
    return new Timestamp(BigInt(d.getTime()) * 1000n);
  }

  static fromMillis(ms: number): Timestamp {
    return new Timestamp(BigInt(Math.round(ms)) * 1000n);
  }

  /** Parses ISO 8601 text; a value without a zone is UTC. Returns undefined when not a timestamp. */
  static parse(text: string): Timestamp | undefined {
    const canonical = parseCanonical(text);
    if (canonical !== undefined) return canonical;
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
    if (!m) return undefined;
    const zone = m[4] ? (m[4].toUpperCase() === 'Z' ? 'Z' : normaliseZone(m[4])) : 'Z';
    const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${zone}`);
    if (Number.isNaN(ms)) return undefined;
    const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
    return new Timestamp(BigInt(ms) * 1000n + BigInt(frac));
  }

  get millis(): number {
    return Number(this.micros / 1000n);
  }

  /** ISO 8601 UTC; microseconds shown only when present. */
  toISOString(): string {
    const base = new Date(Number(floorDiv(this.micros, 1000000n)) * 1000).toISOString().slice(0, 19);
    const micros = Number(((this.micros % 1000000n) + 1000000n) % 1000000n);
    if (micros === 0) return `${base}Z`;
    const ms = micros % 1000 === 0;
    return `${base}.${String(ms ? micros / 1000 : micros).padStart(ms ? 3 : 6, '0')}Z`;
  }

  /** `YYYY-MM-DD HH:MM:SS.ffffff`, the form every dialect's timestamp literal takes. */
  toSqlText(): string {
    const base = new Date(Number(floorDiv(this.micros, 1000000n)) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const micros = ((this.micros % 1000000n) + 1000000n) % 1000000n;
    return `${base}.${String(micros).padStart(6, '0')}`;
  }

  plusSeconds(seconds: number): Timestamp {
    return new Timestamp(this.micros + BigInt(Math.round(seconds * 1e6)));
  }

  toJSON(): string {
    return this.toISOString();
  }
}

/** Two decimal digits at `i`, or -1. */
function digits2(t: string, i: number): number {
  const a = t.charCodeAt(i) - 48;
  const b = t.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Timestamp.parse for the form clients send, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, without a regex
 * and a rebuilt string (a push parses one per row). Only fields every month and year take (days to
 * 28, years from 1000), so it answers exactly as the general path; anything else is left to it.
 */
function parseCanonical(t: string): Timestamp | undefined {
  const n = t.length;
  if (n < 20 || n > 30 || t.charCodeAt(n - 1) !== 90 /* Z */ || t[4] !== '-' || t[7] !== '-' || t[10] !== 'T' || t[13] !== ':' || t[16] !== ':') return undefined;
  const [c, y, mo, d, h, mi, s] = [digits2(t, 0), digits2(t, 2), digits2(t, 5), digits2(t, 8), digits2(t, 11), digits2(t, 14), digits2(t, 17)];
  if (c < 10 || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 28 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  let micros = 0;
  if (n > 20) {
    if (t[19] !== '.' || n < 22) return undefined;
    for (let i = 20; i < n - 1; i++) {
      const x = t.charCodeAt(i) - 48;
      if (x < 0 || x > 9) return undefined;
      if (i < 26) micros = micros * 10 + x;
    }
    for (let i = Math.min(n - 1, 26); i < 26; i++) micros *= 10;
  }
  return new Timestamp(BigInt(Date.UTC(c * 100 + y, mo - 1, d, h, mi, s)) * 1000n + BigInt(micros));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function normaliseZone(z: string): string {
  const digits = z.slice(1).replace(':', '');
  return `${z[0]}${digits.slice(0, 2)}:${(digits.slice(2) || '00').padEnd(2, '0')}`;
}

export type Value = null | boolean | number | bigint | string | Timestamp | Value[];
export type Row = Record<string, Value>;

export interface Column {
  name: string;
  type: DataType;
}

export function typeName(t: DataType): string {
  return t.type === 'array' ? `array<${t.elementType ? typeName(t.elementType) : 'string'}>` : t.type;
}
