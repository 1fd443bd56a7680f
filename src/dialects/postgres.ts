import { Dialect, type IntervalUnit, type LatestQuery, type TruncUnit } from './dialect.js';
import type { TableStorage } from '../plans/materialize.js';
import type { TimeRange } from '../plans/relation.js';
import type { ExtractField } from '../expressions/tree.js';
import type { ScalarType, Timestamp } from '../values.js';

const TYPES: Record<ScalarType, string> = { int64: 'bigint', float64: 'double precision', string: 'text', boolean: 'boolean', timestamp: 'timestamp' };

/**
 * PostgreSQL 15+. No ASOF join, no IGNORE NULLS, no QUALIFY, no SELECT * EXCEPT: the point in
 * time is a LEFT JOIN LATERAL per view (bench/pit measured it against a window form), the latest
 * row per entity a DISTINCT ON, and the training table lists its event columns.
 */
export class PostgresDialect extends Dialect {
  readonly name = 'postgres' as const;
  readonly pitStrategies = ['lateral'] as const;
  /** One database per connection: cross-database names are an error in PostgreSQL. */
  readonly namesDatabase = false;
  readonly hasSelectExcept = false;
  readonly readsFiles = false;
  readonly writesFiles = false;
  readonly insertionOrderColumn = undefined;
  readonly singleStatementAtomic = false;
  readonly sqlGrammar = 'postgresql' as const;

  quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
  }

  /** standard_conforming_strings (on since 9.1): a backslash is an ordinary character. */
  stringLiteral(s: string): string {
    return `'${s.replace(/'/g, "''")}'`;
  }

  timestampLiteral(ts: Timestamp): string {
    return `timestamp '${ts.toSqlText()}'`;
  }

  intervalLiteral(count: number, unit: IntervalUnit): string {
    return `interval '${count} ${unit}s'`;
  }

  protected addUnits(expr: string, count: number, unit: IntervalUnit): string {
    return `(${expr} ${count < 0 ? '-' : '+'} ${this.intervalLiteral(Math.abs(count), unit)})`;
  }

  castTo(expr: string, type: ScalarType): string {
    return `cast(${expr} as ${TYPES[type]})`;
  }

  /** Division of two integers truncates in PostgreSQL; the other warehouses divide as floats. */
  safeDivide(numerator: string, denominator: string): string {
    return `case when (${denominator}) = 0 then null else cast(${numerator} as double precision) / (${denominator}) end`;
  }

  dateTrunc(unit: TruncUnit, expr: string): string {
    return `date_trunc('${unit}', ${expr})`;
  }

  /** EXTRACT(EPOCH ...) is numeric (exact to the microsecond) since PostgreSQL 14. */
  secondsBetween(start: string, end: string): string {
    return `cast(extract(epoch from ${end}) - extract(epoch from ${start}) as double precision)`;
  }

  rowSequence(): string {
    return 'row_number() over ()';
  }

  /**
   * DDL is transactional here: the statements run as one (the caller's atomic list). A b-tree on
   * the lookup key makes each LATERAL lookup of `train` one index descent, and sync's DISTINCT ON
   * an index scan.
   */
  createTableAs(table: string, select: string, storage?: TableStorage): string[] {
    const index = storage ? [`create index on ${table} (${storage.lookupKey.map((c) => this.quoteIdent(c)).join(', ')})`] : [];
    return [this.dropTable(table), `create table ${table} as\n${select}`, ...index];
  }

  /** DISTINCT ON keeps the first row of each partition in the ORDER BY. */
  latestPerEntity(q: LatestQuery): string {
    return [
      `select distinct on (${q.partition.join(', ')}) ${q.columns}`,
      `from ${q.from}`,
      `where ${q.where.join('\n  and ')}`,
      `order by ${[...q.partition, ...q.order].join(', ')}`,
    ].join('\n');
  }

  /** hashtextextended (bigint, PostgreSQL 11+) of the values' row text. */
  tieBreak(columns: string[]): string {
    return columns.length === 0 ? '0' : `hashtextextended(row(${columns.join(', ')})::text, 0)`;
  }

  /** EXTRACT(EPOCH ...) is numeric, exact to the microsecond (PostgreSQL 14+). */
  epochMicros(expr: string): string {
    return `cast(extract(epoch from ${expr}) * 1000000 as bigint)`;
  }

  /** Integer `/` truncates toward zero; the remainder moves negative values down. */
  floorDivide(expr: string, divisor: number): string {
    return `(((${expr}) - (((${expr}) % ${divisor}) + ${divisor}) % ${divisor}) / ${divisor})`;
  }

  orderedArray(expr: string, order: string[]): string {
    return `array_agg(${expr} order by ${order.join(', ')})`;
  }

  sortedDistinctArray(expr: string): string {
    return `array_agg(distinct ${expr} order by ${expr}) filter (where ${expr} is not null)`;
  }

  jsonText(array: string): string {
    return `cast(array_to_json(${array}) as text)`;
  }

  /** DROP TABLE fails under a dependent view: the views on `table` named `prefix…`, found in pg_depend. */
  dropViewsOn(table: string, prefix: string): string[] {
    const like = this.stringLiteral(`${prefix.replace(/[\\_%]/g, '\\$&')}%`);
    return [
      `do $$\ndeclare v regclass;\nbegin\n  for v in select distinct w.ev_class::regclass from pg_depend as d join pg_rewrite as w on w.oid = d.objid join pg_class as c on c.oid = w.ev_class\n    where d.refobjid = to_regclass(${this.stringLiteral(table)}) and c.relkind = 'v' and c.relname like ${like}\n  loop\n    execute format('drop view if exists %s', v);\n  end loop;\nend $$`,
    ];
  }

  /** No approximate percentiles: percentile_cont sorts the values (exact). */
  quantileAggregates(expr: string, ps: readonly number[]): string[] {
    return [`percentile_cont(array[${ps.join(', ')}]::float8[]) within group (order by ${expr})`];
  }

  quantileAt(columns: string[], _ps: readonly number[], i: number): string {
    return `${columns[0]}[${i + 1}]`;
  }

  /** No HyperLogLog without an extension: exact. */
  approxDistinct(expr: string): string {
    return `count(distinct ${expr})`;
  }

  /** `'{}'` takes the array's type from the other argument. */
  orEmptyArray(expr: string): string {
    return `coalesce(${expr}, '{}')`;
  }

  incrementalWrite(table: string, select: string, timestamp: string, range: TimeRange): string[] {
    return this.deleteInsert(table, select, timestamp, range, false);
  }

  /**
   * numeric is exact. The guards sit inside the casts' arguments (NULL instead of a bad value), not
   * around them: the planner folds constant subexpressions of CASE arms it may never take, and a
   * cast that can fail would fail there.
   */
  checkedInt64(op: '+' | '-' | '*', a: string, b: string): string {
    return int64OfNumeric(`(cast(${a} as numeric) ${op} ${b})`);
  }

  int64FromText(s: string): string {
    return int64OfNumeric(`cast(case when ${s} ~ '^[+-]?[0-9]+$' then ${s} end as numeric)`);
  }

  /** dow is 0 (Sunday) to 6; EXTRACT gives numeric. */
  extractPart(field: ExtractField, ts: string): string {
    return field === 'dayofweek' ? `(extract(dow from ${ts}) + 1)` : `extract(${field} from ${ts})`;
  }

  /** The database's collation may be a locale's (en_US orders 'a' < 'B'); "C" is byte order. */
  binaryOrder(s: string): string {
    return `(${s} collate "C")`;
  }

  /** substr takes int4 positions. */
  override substring(s: string, start: string, length?: string): string {
    return `substr(${s}, cast(${start} as integer)${length ? `, cast(${length} as integer)` : ''})`;
  }

  /** OFFSET 0 keeps the planner from pulling the subquery up. */
  override computedOnce(select: string): string {
    return `${select}\noffset 0`;
  }
}

function int64OfNumeric(n: string): string {
  return `cast(case when ${n} between -9223372036854775808 and 9223372036854775807 then ${n} end as bigint)`;
}
