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
