/**
 * The events of `fsql train --events SRC`: parsing SRC, staging the events in the target warehouse
 * (so their columns can be described and their input order kept), checking their columns.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName } from '../plans/relation.js';
import { ProjectError } from '../errors.js';
import { renderNumberedFile, renderStaging } from '../dialects/staging.js';
import type { EventSource } from '../plans/events.js';
import { ROW_COLUMN, TS_COLUMN, type PitView } from '../plans/point-in-time.js';
import type { Target } from '../project/types.js';
import { typeName, type Column } from '../values.js';
import { withLocalDuckDb } from '../warehouse/local-duckdb.js';
import type { Warehouse } from '../warehouse/warehouse.js';

const SOURCE_HELP = 'a .csv or .parquet file, table:<name> or sql:<query>';

/** `schema.name` or `name` of a `table:` argument, in the target's database. */
export function tableName(d: Dialect, flag: string, text: string, target: Target): RelationName {
  const parts = text.split('.');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p))) {
    throw new ProjectError(flag, `'table:${text}' is not a table name; write table:<name> or table:<schema>.<name> (letters, digits and _).`);
  }
  return d.tableIn(target, parts[parts.length - 1], parts.length === 2 ? parts[0] : target.schema);
}

export function parseEventSource(d: Dialect, text: string, target: Target, cwd = process.cwd()): EventSource {
  if (text.startsWith('table:')) return { kind: 'table', table: tableName(d, '--events', text.slice(6), target), display: text };
  if (text.startsWith('sql:')) {
    const query = text.slice(4).trim().replace(/;\s*$/, '');
    if (!query) throw new ProjectError('--events', `'sql:' needs a query, such as sql:select * from events.`);
    return { kind: 'sql', query, display: '--events (sql query)' };
  }
  const ext = extname(text).toLowerCase();
  if (ext !== '.csv' && ext !== '.parquet') throw new ProjectError('--events', `'${text}' is not ${SOURCE_HELP}.`);
  const path = resolve(cwd, text);
  if (!existsSync(path) || !statSync(path).isFile()) throw new ProjectError('--events', `${text}: no such file (looked at ${path}).`);
  return { kind: 'file', path, display: text };
}

export interface StagedEvents {
  table: RelationName;
  /** a view reads the file in place; a table holds a copy */
  kind: 'table' | 'view';
  /** pseudo-column giving the input order (DuckDB rowid), or undefined when ROW_COLUMN was added */
  orderColumn?: string;
}

export function stagingName(d: Dialect, target: Target, id: string = randomBytes(4).toString('hex')): RelationName {
  return d.tableIn(target, `fsql_events_${id}`);
}

export function dropStaged(d: Dialect, staged: Pick<StagedEvents, 'table' | 'kind'>): string {
  return staged.kind === 'view' ? d.dropView(d.relation(staged.table)) : d.dropTable(d.relation(staged.table));
}

/** Stages the events in the target warehouse; the caller drops them afterwards (dropStaged). */
export async function stageEvents(wh: Warehouse, source: EventSource, staged: RelationName): Promise<StagedEvents> {
  const plan = renderStaging(wh.dialect, source, staged);
  const out: StagedEvents = { table: staged, kind: plan.kind, orderColumn: plan.orderColumn };
  if (plan.how === 'execute') await wh.execute(plan.statements, { atomic: plan.statements.length > 1, label: source.display });
  else if (source.kind === 'file' && plan.how === 'load') await wh.loadFile(source.path, staged);
  else if (source.kind === 'file') await uploadNumbered(wh, source.path, staged);
  return out;
}

/** Numbers the rows of a local file in a local DuckDB (parquet), then loads that into the warehouse. */
async function uploadNumbered(wh: Warehouse, path: string, staged: RelationName): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fsql-events-'));
  try {
    const numbered = join(dir, 'events.parquet');
    await withLocalDuckDb((local) => local.execute(renderNumberedFile(local.dialect, path, numbered)));
    await wh.loadFile(numbered, staged);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The event column named `name`: exactly, or else in another case. */
export function findColumn(columns: Column[], name: string): Column | undefined {
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

/**
 * Checks that the events carry every join key and a timestamp column, and that no event column
 * collides with a feature output column or fsql's helper columns.
 */
export function checkEventColumns(display: string, columns: Column[], timestamp: string, views: Pick<PitView, 'view' | 'keys' | 'features'>[], orderColumn?: string): void {
  const listing = `The events have: ${columns.map((c) => `${c.name} (${typeName(c.type)})`).join(', ')}.`;
  const ts = findColumn(columns, timestamp);
  if (!ts) {
    throw new ProjectError(display, `the events lack the timestamp column '${timestamp}'. ${listing} Name the event time column with --timestamp-column.`);
  }
  if (ts.type.type !== 'timestamp') {
    throw new ProjectError(display, `the event timestamp column '${ts.name}' is ${typeName(ts.type)}, not a timestamp. Store it as a timestamp, or pass sql:select *, cast(${ts.name} as timestamp) as ${ts.name}_ts from ... with --timestamp-column ${ts.name}_ts.`);
  }
  const missing = new Map<string, string[]>();
  for (const v of views) {
    for (const k of v.keys) {
      if (!findColumn(columns, k.column)) missing.set(k.column, [...(missing.get(k.column) ?? []), v.view]);
    }
  }
  if (missing.size > 0) {
    const what = [...missing].map(([k, vs]) => `'${k}' (needed by ${vs.join(', ')})`).join(', ');
    throw new ProjectError(display, `the events lack join key${missing.size > 1 ? 's' : ''} ${what}. ${listing}`);
  }
  // An event column named like the warehouse's row-order pseudo-column (DuckDB's rowid) would hide it.
  const taken = new Set([ROW_COLUMN, TS_COLUMN, ...(orderColumn ? [orderColumn] : []), ...views.flatMap((v) => v.features.map((f) => f.output))].map((c) => c.toLowerCase()));
  const clash = columns.filter((c) => taken.has(c.name.toLowerCase())).map((c) => c.name);
  if (clash.length > 0) {
    throw new ProjectError(display, `event column${clash.length > 1 ? 's' : ''} ${clash.join(', ')} would collide with the training table's own columns; rename ${clash.length > 1 ? 'them' : 'it'} in the events.`);
  }
}

/** Types that compare with each other in every warehouse without a cast. */
function keyKind(c: Column): string {
  return c.type.type === 'int64' || c.type.type === 'float64' ? 'number' : typeName(c.type);
}

/**
 * Checks that each join key of the events has its view's key type, so a mismatch names the events
 * column and the type it needs instead of failing inside the join (or, on DuckDB, matching by text).
 */
export function checkEventKeyTypes(display: string, columns: Column[], views: Pick<PitView, 'view' | 'keys'>[], tables: Map<string, Column[]>): void {
  for (const v of views) {
    for (const k of v.keys) {
      const event = findColumn(columns, k.event);
      const feature = findColumn(tables.get(v.view) ?? [], k.column);
      if (!event || !feature || keyKind(event) === keyKind(feature)) continue;
      throw new ProjectError(
        display,
        `events column '${event.name}' is ${typeName(event.type)}, but join key '${k.column}' of feature view '${v.view}' is ${typeName(feature.type)}. Give the events column that type (for a csv, values that read as ${typeName(feature.type)}), or cast it: --events "sql:select * replace (cast(${event.name} as <type>) as ${event.name}) from ...".`,
      );
    }
  }
}
