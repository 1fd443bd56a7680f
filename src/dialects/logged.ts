/**
 * SQL of `fsql logs load` (SPEC section 12): the ledger `fsql_logged_segments` (per service and
 * segment, the byte offset loaded up to), and a batch's move from its staging table into
 * `fsql_logged_<service>` together with its ledger rows, in one transaction, so each entry is
 * loaded exactly once however often a killed load is re-run.
 */
import { loggedColumns, PUSH_ID, PUSH_ROW, REQUEST_ID, REQUEST_ROW, REQUEST_TIME, type SegmentHeader } from '../feature-log/segment.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import type { Column, DataType, Timestamp } from '../values.js';
import type { Dialect } from './dialect.js';
import { dialectFor } from './index.js';
import { duckDbType } from './staging.js';

export const LEDGER_TABLE = 'fsql_logged_segments';

/** What one batch loaded of one segment: its entries up to byte `endOffset`. */
export interface LedgerRow {
  service: string;
  segment: string;
  endOffset: number;
  entries: number;
}

function ledgerSelect(d: Dialect, r: LedgerRow, at: Timestamp): string {
  const q = (n: string) => d.quoteIdent(n);
  return `select ${d.castTo(d.stringLiteral(r.service), 'string')} as ${q('service')}, ${d.castTo(d.stringLiteral(r.segment), 'string')} as ${q('segment')}, `
    + `${d.castTo(String(r.endOffset), 'int64')} as ${q('end_offset')}, ${d.castTo(String(r.entries), 'int64')} as ${q('entries')}, `
    + `${d.castTo(d.timestampLiteral(at), 'timestamp')} as ${q('loaded_at')}`;
}

/** The ledger, created (typed by its SELECT) when missing. */
export function renderCreateLedger(d: Dialect, ledger: RelationName, at: Timestamp): string {
  return `create table if not exists ${d.relation(ledger)} as\n${ledgerSelect(d, { service: '', segment: '', endOffset: 0, entries: 0 }, at)} where 1 = 0`;
}

/** Per segment of `service`, the offset loaded up to (columns segment, end_offset). */
export function renderLedgerOffsets(d: Dialect, ledger: RelationName, service: string): string {
  const q = (n: string) => d.quoteIdent(n);
  return `select ${q('segment')}, max(${q('end_offset')}) as ${q('end_offset')} from ${d.relation(ledger)} where ${q('service')} = ${d.stringLiteral(service)} group by ${q('segment')}`;
}

/** Where a batch's rows are read: the staging table, or (a DuckDB target) the NDJSON file itself. */
export function batchSource(d: Dialect, staging: RelationName, file?: { ndjson: string; header: SegmentHeader; columns?: Column[] }): string {
  return file ? `(\n${renderLogSelect(file.ndjson, file.header, file.columns)}\n) as ${d.quoteIdent('entries')}` : d.relation(staging);
}

/** The logged table, created with the batch's columns when missing. */
export function renderCreateLogged(d: Dialect, table: RelationName, source: string): string {
  return `create table if not exists ${d.relation(table)} as\nselect * from ${source} where 1 = 0`;
}

/** One batch: its rows into the logged table, its segments' new offsets into the ledger. Run atomically. */
export function renderLoadBatch(d: Dialect, table: RelationName, source: string, columns: string[], ledger: RelationName, rows: LedgerRow[], at: Timestamp): string[] {
  const cols = columns.map((c) => d.quoteIdent(c)).join(', ');
  return [
    `insert into ${d.relation(table)} (${cols})\nselect ${cols} from ${source}`,
    `insert into ${d.relation(ledger)}\n${rows.map((r) => ledgerSelect(d, r, at)).join('\nunion all\n')}`,
  ];
}

/**
 * DuckDB's SELECT of entry lines of one header (an NDJSON file) as the logged table's columns and
 * types (loggedColumns; a pushed segment's are pushedColumns: the same positions, other names).
 * A line holds `n` rows (LogEntry), unnested here; row i's values sit at i times the row's width
 * in each flat list. DuckDB parses and casts the JSON itself, far faster than JavaScript could,
 * and a value of the wrong type fails the cast. Run by a local DuckDB (to parquet, for the other
 * warehouses) or by a DuckDB target itself (one that `readsFiles`).
 */
export function renderLogSelect(ndjson: string, h: SegmentHeader, columns: Column[] = loggedColumns(h)): string {
  const d = dialectFor('duckdb');
  const lit = (s: string) => d.stringLiteral(s);
  // each list read once as text values (a nested array as its JSON text), then cast per column
  const read = `read_ndjson(${lit(ndjson)}, columns = {'n': 'BIGINT', 'id': 'VARCHAR', 't': 'BIGINT', 'row': 'BIGINT', 'k': 'VARCHAR[]', 'c': 'VARCHAR[]', 'v': 'VARCHAR[]', 'e': 'BIGINT[]'})`;
  // a line without n (a version 1 line, a pushed row) holds one row; one without row (version 3) starts at row 0
  const rows = `select *, unnest(range(coalesce(n, 1))) as i from ${read}`;
  const at = (list: string, width: number, j: number) => `${list}[i * ${width} + ${j + 1}]`;
  const element = (list: string, width: number, j: number, t: DataType) =>
    t.type === 'string' ? at(list, width, j) : t.type === 'array' ? `cast(cast(${at(list, width, j)} as JSON) as ${duckDbType(t)})` : `cast(${at(list, width, j)} as ${duckDbType(t)})`;
  const views = h.views.length;
  const exprs = [
    'id',
    'coalesce("row", 0) + i',
    'make_timestamp(t)',
    ...h.join_keys.map((k, j) => element('k', h.join_keys.length, j, k.type)),
    ...h.request_fields.map((f, j) => element('c', h.request_fields.length, j, f.type)),
    ...h.features.map((f, j) => element('v', h.features.length, j, f.type)),
    ...h.views.flatMap((_, j) => [`case when ${at('e', views, j)} is null then 'MISSING_DATA' else 'PRESENT' end`, `make_timestamp(${at('e', views, j)})`]),
  ];
  return `select ${exprs.map((e, i) => `${e} as ${d.quoteIdent(columns[i].name)}`).join(', ')} from (${rows}) as ${d.quoteIdent('lines')}`;
}

/** A local DuckDB statement: renderLogSelect's rows to a parquet file. */
export function renderLogToParquet(ndjson: string, h: SegmentHeader, out: string, columns?: Column[]): string {
  return dialectFor('duckdb').copyToFile(renderLogSelect(ndjson, h, columns), out, 'parquet');
}

/**
 * `fsql train --events logged:<service>`: the logged requests as events, request time as
 * `event_timestamp`, with the request's id, row, join keys and request context (`eventColumns`);
 * with `features` (`--served`), also the values served. `range` bounds the request time.
 */
export function renderLoggedEvents(d: Dialect, table: RelationName, eventColumns: string[], range: TimeRange, features: string[] = []): string {
  const q = (n: string) => d.quoteIdent(n);
  const columns = [...eventColumns.map(q), `${q(REQUEST_TIME)} as ${q(LOGGED_EVENT_TIMESTAMP)}`, ...features.map(q)];
  return `select ${columns.join(', ')} from ${d.relation(table)} where ${d.rangeCondition(q(REQUEST_TIME), range)}`;
}

/** The event time column of logged events. */
export const LOGGED_EVENT_TIMESTAMP = 'event_timestamp';

/**
 * `fsql skew-check --logged`: the logged requests (`served`, renderLoggedEvents with features)
 * whose served value of some feature differs from the recomputed training row (`training`), with
 * both values of every feature (`served__<column>`, `training__<column>`), at most `limit` rows.
 */
export function renderLoggedSkew(d: Dialect, served: string, training: RelationName, features: string[], limit: number): string {
  const q = (n: string) => d.quoteIdent(n);
  const both = features.flatMap((f) => [`s.${q(f)} as ${q(`served__${f}`)}`, `t.${q(f)} as ${q(`training__${f}`)}`]);
  const differs = features.map((f) => `s.${q(f)} is distinct from t.${q(f)}`).join('\n   or ');
  const [id, row] = [q(REQUEST_ID), q(REQUEST_ROW)];
  return `select s.${id}, s.${row}, s.${q(LOGGED_EVENT_TIMESTAMP)}, ${both.join(', ')}\nfrom (\n${served}\n) as s\njoin ${d.relation(training)} as t on t.${id} = s.${id} and t.${row} = s.${row}\nwhere ${differs || 'false'}\norder by s.${q(LOGGED_EVENT_TIMESTAMP)}, s.${id}, s.${row}\nlimit ${limit}`;
}

/**
 * `fsql run`: a view's pushed rows merged into its offline table, one per (keys, timestamp[,
 * created]) whatever how often it was pushed, and none where the table already has a row at that
 * key and time (computed from the sources, or merged by an earlier run).
 */
export function renderMergePushed(d: Dialect, table: RelationName, pushed: RelationName, keys: string[], columns: string[]): string {
  const q = (n: string) => d.quoteIdent(n);
  const cols = columns.map(q).join(', ');
  const partition = keys.map(q).join(', ');
  const same = keys.map((k) => `v.${q(k)} = p.${q(k)}`).join(' and ');
  return `insert into ${d.relation(table)} (${cols})\nselect ${cols} from (\n  select ${cols}, row_number() over (partition by ${partition} order by ${q(PUSH_ID)} desc, ${q(PUSH_ROW)} desc) as ${q('fsql_push_rank')}\n  from ${d.relation(pushed)}\n) as p\nwhere ${q('fsql_push_rank')} = 1 and not exists (select 1 from ${d.relation(table)} as v where ${same})`;
}
