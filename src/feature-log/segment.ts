/**
 * The feature log's file format (SPEC section 12), written by the server (serving/feature-log.ts)
 * and read by `fsql logs load` (offline/logs-load.ts). A segment is one NDJSON file
 * `<log dir>/<service>/<segment id>.ndjson`: a header line naming the service's shape, then one
 * line per request served (LogEntry: its rows' values in flat lists). Only lines ending in a
 * newline count, so a write cut by a crash leaves a torn last line that no reader ever takes.
 */
import { join } from 'node:path';
import type { Project } from '../project/types.js';
import type { Column, DataType } from '../values.js';

export const SEGMENT_EXTENSION = '.ndjson';
/**
 * Version 3: a request's line leaves out `row` (0). Version 2 request lines wrote `"row":0`; version
 * 1 lines held one row each and are lines without `n`. All three load with the same SQL.
 */
export const LOG_FORMAT_VERSION = 3;
const READABLE_VERSIONS: unknown[] = [1, 2, 3];

/** The first line of a segment: the columns every entry of the segment fills, in order. */
export interface SegmentHeader {
  fsql_log: number;
  segment: string;
  service: string;
  join_keys: Column[];
  request_fields: Column[];
  features: { view: string; feature: string; type: DataType }[];
  /** the stored views read, in the order of an entry's statuses and effective times */
  views: string[];
}

/** A segment's header (without its id, which the writer adds): the columns' names and types only. */
export function segmentHeader(service: string, joinKeys: readonly Column[], requestFields: readonly Column[], features: readonly SegmentHeader['features'][number][], views: string[]): Omit<SegmentHeader, 'segment'> {
  return {
    fsql_log: LOG_FORMAT_VERSION,
    service,
    join_keys: joinKeys.map((k) => ({ name: k.name, type: k.type })),
    request_fields: requestFields.map((f) => ({ name: f.name, type: f.type })),
    features: features.map((f) => ({ view: f.view, feature: f.feature, type: f.type })),
    views,
  };
}

/**
 * One line: `n` served vectors (rows `row` to `row + n - 1`) of one request. Each list holds the
 * rows one after another: row r's join keys are k[r * keys .. (r + 1) * keys - 1], and so on. One
 * line per request, not per row, and flat lists: what the server writes per row is just its values
 * (CONTEXT.md). Values are JSON as the Tecton API writes them (int64 as strings, timestamps ISO 8601).
 */
export interface LogEntry {
  /** the rows the line holds; written first (loaders count rows from it without parsing the line); absent means 1 */
  n?: number;
  /** the request's id: unique per HTTP request, shared by the rows of a batch */
  id: string;
  /** the line's first row within its request; absent means 0 (a request's first line), written by a push's lines and a long request's further lines */
  row?: number;
  /** the request time in microseconds since the epoch (a JSON number: exact until the year 2255) */
  t: number;
  /** join key values, header.join_keys order per row */
  k: unknown[];
  /** request context values, header.request_fields order per row */
  c: unknown[];
  /** feature values, header.features order per row (null where MISSING_DATA) */
  v: unknown[];
  /**
   * per row and stored view (header.views order), the effective time served in microseconds since
   * the epoch; null where MISSING_DATA, so it also gives the serving status (PRESENT where not null)
   */
  e: (number | null)[];
}

/** The warehouse table a service's log loads into. */
export function loggedTableName(service: string): string {
  return `fsql_logged_${service}`;
}

/** The logged table's columns fsql itself adds, before the join keys: each request's id, its row, its time. */
export const REQUEST_ID = 'request_id';
export const REQUEST_ROW = 'request_row';
export const REQUEST_TIME = 'request_time';
const ENTRY_COLUMNS: Column[] = [
  { name: REQUEST_ID, type: { type: 'string' } },
  { name: REQUEST_ROW, type: { type: 'int64' } },
  { name: REQUEST_TIME, type: { type: 'timestamp' } },
];

/** How every line of a request's rows starts, its row count next: the loader counts rows without parsing the line. */
export const ROWS_PREFIX = '{"n":';

/** The logged table's columns for a segment: fsql's, join keys, request fields, `<view>__<feature>`, then per view its status and effective time. */
export function loggedColumns(h: SegmentHeader): Column[] {
  return [
    ...ENTRY_COLUMNS,
    ...h.join_keys,
    ...h.request_fields,
    ...h.features.map((f) => ({ name: featureColumn(f.view, f.feature), type: f.type })),
    ...h.views.flatMap((v): Column[] => [
      { name: statusColumn(v), type: { type: 'string' } },
      { name: effectiveTimeColumn(v), type: { type: 'timestamp' } },
    ]),
  ];
}

/** A logged feature's column: the training table's name for it. */
export function featureColumn(view: string, feature: string): string {
  return `${view}__${feature}`;
}

export function statusColumn(view: string): string {
  return `${view}__serving_status`;
}

export function effectiveTimeColumn(view: string): string {
  return `${view}__effective_time`;
}

/** Checks a parsed header; a file that is not a segment is an error naming it. */
export function checkHeader(value: unknown, file: string): SegmentHeader {
  const h = value as Partial<SegmentHeader> | null;
  if (!h || typeof h !== 'object' || !READABLE_VERSIONS.includes(h.fsql_log) || typeof h.segment !== 'string' || typeof h.service !== 'string'
    || !Array.isArray(h.join_keys) || !Array.isArray(h.request_fields) || !Array.isArray(h.features) || !Array.isArray(h.views)) {
    throw new Error(`${file}: the first line is not an fsql feature log header (version ${READABLE_VERSIONS.join(' or ')}); move files other than fsql's segments out of the log directory.`);
  }
  return h as SegmentHeader;
}

/** Where /push's offline rows wait for `fsql run` (a folder no service can be named after). */
export const PUSHED_FOLDER = '.pushed';

/** The pushed rows' own columns: the push's id (in push order within a process) and the row's place in it. */
export const PUSH_ID = 'push_id';
export const PUSH_ROW = 'push_row';

/** The warehouse table of a view's pushed rows. */
export function pushedTableName(view: string): string {
  return `${view}__pushed`;
}

/**
 * The columns of a view's pushed rows: the push's id and row, the view's timestamp, join keys, its
 * created timestamp (a pushed segment's one request field, when the view has one) and features,
 * by the view's own names. A pushed segment is a segment whose `service` is the view, with a line
 * per pushed row (no `n`): `t` the row's timestamp, `c` its created timestamp; it has no stored views.
 */
export function pushedColumns(h: SegmentHeader, timestampColumn: string): Column[] {
  return [
    { name: PUSH_ID, type: { type: 'string' } },
    { name: PUSH_ROW, type: { type: 'int64' } },
    { name: timestampColumn, type: { type: 'timestamp' } },
    ...h.join_keys,
    ...h.request_fields,
    ...h.features.map((f) => ({ name: f.feature, type: f.type })),
  ];
}

/** The default log directory: `<target-path>/feature_logs/<target>`. */
export function defaultLogDir(project: Project): string {
  return join(project.targetPath, 'feature_logs', project.target.name);
}
