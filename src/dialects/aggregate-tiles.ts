/**
 * SQL for an AggregateRunPlan: the view's events (its SELECT plus each row's tile), the tile states
 * (aggregate-state.ts), the distinct values and the end rows per tile. A full build creates them
 * all; an incremental run replaces the events from the range's start and rebuilds every tile from
 * the one holding that start, reading only those rows (tiles before it cannot change). With
 * `perRow` the per-tile relations are views of the events, a state per row, which follow the
 * events by themselves: an incremental run replaces the events only.
 */
import { PER_ROW_COLUMN, perTilePrefix, TILE_COLUMN, tileOf, type AggregateRunPlan } from '../plans/aggregate.js';
import type { TableStorage } from '../plans/materialize.js';
import type { RelationName } from '../plans/relation.js';
import { columnStates, rowState, stateColumns, tileStateSelect } from './aggregate-state.js';
import { Timestamp } from '../values.js';
import type { Dialect } from './dialect.js';

export interface AggregateStatements {
  statements: string[];
  atomic: boolean;
}

/** The events' SELECT: the view's rows with a timestamp and every key, and their tile index. */
export function eventsSelect(plan: AggregateRunPlan, d: Dialect): string {
  const id = (c: string) => d.quoteIdent(c);
  const tile = d.floorDivide(d.epochMicros(`s.${id(plan.timestamp)}`), tileMicros(plan));
  const present = [plan.timestamp, ...plan.keys].map((c) => `s.${id(c)} is not null`).join(' and ');
  return `select s.*, ${tile} as ${id(TILE_COLUMN)}\nfrom (\n${plan.select.trimEnd()}\n) as s\nwhere ${present}`;
}

function tileMicros(plan: Pick<AggregateRunPlan, 'spec'>): number {
  return Math.round(plan.spec.tileSeconds * 1e6);
}

/** A relation a full build creates: its SELECT and layout, a table or (per-row) a view. */
interface Created {
  table: RelationName;
  select: string;
  storage: TableStorage;
  view: boolean;
}

/** The events', then the per-tile relations' (tables, or with `perRow` views), in build order: the others read the events. */
export function aggregateTableSelects(plan: AggregateRunPlan, d: Dialect): Created[] {
  return [eventsCreated(plan, d), ...perTileCreated(plan, d)];
}

function eventsCreated(plan: AggregateRunPlan, d: Dialect): Created {
  return { table: plan.tables.events, select: eventsSelect(plan, d), storage: eventsStorage(plan), view: false };
}

function perTileCreated(plan: AggregateRunPlan, d: Dialect): Created[] {
  const storage = tileStorage(plan);
  const view = Boolean(plan.perRow);
  return (view ? perRowSelects(plan, d) : tileSelects(plan, d, 'true')).map((t) => ({ ...t, storage, view }));
}

function create(c: Created, d: Dialect): string[] {
  return c.view ? [d.createViewAs(d.relation(c.table), c.select)] : d.createTableAs(d.relation(c.table), c.select, c.storage);
}

/** A per-tile relation a full build finds from the last one: a per-row view or a table. */
export interface FoundRelation {
  relation: RelationName;
  perRow: boolean;
}

/**
 * A full build, in the order it runs (offline/run-aggregate.ts): `before` drops the per-tile
 * relations found (so a build stopped midway leaves them missing, never stale beside new events)
 * and the views of the events PostgreSQL would not drop them under (those of an earlier
 * aggregation too), then writes the events; `density` counts how many rows fill how many
 * (keys, tile); `perTile` creates the per-tile relations of the kind that count chose.
 */
export interface FullBuild {
  before: string[];
  density: string;
  perTile: (perRow: boolean) => string[];
}

export function renderFullBuild(plan: AggregateRunPlan, found: readonly FoundRelation[], d: Dialect): FullBuild {
  const events = plan.tables.events;
  return {
    before: [
      ...found.map((f) => (f.perRow ? d.dropView(d.relation(f.relation)) : d.dropTable(d.relation(f.relation)))),
      ...d.dropViewsOn(d.relation(events), perTilePrefix(events)),
      ...create(eventsCreated(plan, d), d),
    ],
    density: renderTileDensity(plan, d),
    perTile: (perRow) => perTileCreated({ ...plan, perRow }, d).flatMap((c) => create(c, d)),
  };
}

/**
 * The per-row views: each row of the events its own tile state, distinct value and end row
 * (training merges, dedupes and ranks them as it does tiles'). Each ends with the row's time,
 * PER_ROW_COLUMN, which tells a run it is a view (a table of the same name is dropped otherwise).
 */
function perRowSelects(plan: AggregateRunPlan, d: Dialect): { table: RelationName; select: string }[] {
  const id = (c: string) => d.quoteIdent(c);
  const events = d.relation(plan.tables.events);
  const keyed = [...plan.keys, TILE_COLUMN].map((c) => `r.${id(c)}`);
  const ts = `r.${id(plan.timestamp)}`;
  const select = (columns: string[], where?: string) => `select ${[...keyed, ...columns, `${ts} as ${id(PER_ROW_COLUMN)}`].join(', ')}\nfrom ${events} as r${where ? `\nwhere ${where}` : ''}`;
  return [
    { table: plan.tables.tiles, select: select(rowState(d, columnStates(plan.spec), plan.timestamp)) },
    ...plan.tables.distinct.map((x) => ({ table: x.table, select: select([`r.${id(x.column)} as v`], `r.${id(x.column)} is not null`) })),
    ...plan.tables.ends.map((x) => ({ table: x.table, select: select([`${ts} as ts`, `r.${id(x.column)} as v`], `r.${id(x.column)} is not null`) })),
  ];
}

/** How many rows the events hold, and about how many (keys, tile) they fill: a full build's choice of `perRow`. */
function renderTileDensity(plan: AggregateRunPlan, d: Dialect): string {
  const id = (c: string) => d.quoteIdent(c);
  // a hash of (keys, tile) (tieBreak's), counted approximately where the warehouse can (DuckDB: 0.2 s for 10M rows, exact 0.7 s)
  const tile = d.tieBreak([...plan.keys, TILE_COLUMN].map((c) => `r.${id(c)}`));
  return `select count(*) as ${id('rows')}, ${d.approxDistinct(tile)} as ${id('tiles')}\nfrom ${d.relation(plan.tables.events)} as r`;
}

/**
 * The events are partitioned by day on their timestamp (BigQuery, where a table is billed by the
 * partitions a statement reads: an incremental run replaces and re-tiles only the newest days)
 * and clustered, like the tiles, by keys and tile, as train joins them. Every table is written in
 * tile order where that decides what a scan skips (DuckDB): an incremental run deletes and reads
 * the newest tiles only.
 */
function eventsStorage(plan: AggregateRunPlan): TableStorage {
  return { ...tileStorage(plan), partition: { field: plan.timestamp, granularity: 'day' } };
}

/** Per-tile tables: looked up, indexed (PostgreSQL) and clustered (BigQuery) by keys and tile; not partitioned. */
function tileStorage(plan: AggregateRunPlan): TableStorage {
  return { lookupKey: [...plan.keys, TILE_COLUMN], partition: null, cluster: [...plan.keys, TILE_COLUMN], clusterConfigured: false, sortedBy: TILE_COLUMN };
}

/** Each per-tile table with its SELECT over the events `r` whose tile satisfies `where`. */
function tileSelects(plan: AggregateRunPlan, d: Dialect, where: string): { table: RelationName; select: string }[] {
  const id = (c: string) => d.quoteIdent(c);
  const events = d.relation(plan.tables.events);
  const keys = plan.keys.map((k) => `r.${id(k)}`);
  const tile = `r.${id(TILE_COLUMN)}`;
  const ts = `r.${id(plan.timestamp)}`;
  const out = [{ table: plan.tables.tiles, select: tileStateSelect(d, columnStates(plan.spec), plan.keys, plan.timestamp, TILE_COLUMN, events, where) }];
  for (const x of plan.tables.distinct) {
    const c = `r.${id(x.column)}`;
    out.push({ table: x.table, select: `select distinct ${[...keys, tile, `${c} as v`].join(', ')}\nfrom ${events} as r\nwhere ${where} and ${c} is not null` });
  }
  for (const x of plan.tables.ends) {
    const c = `r.${id(x.column)}`;
    const by = [...keys, tile].join(', ');
    const ranks = [
      ...(x.first > 0 ? [`row_number() over (partition by ${by} order by ${ts}, ${c}) as fsql_first`] : []),
      ...(x.last > 0 ? [`row_number() over (partition by ${by} order by ${ts} desc, ${c} desc) as fsql_last`] : []),
    ];
    const keep = [...(x.first > 0 ? [`r.fsql_first <= ${x.first}`] : []), ...(x.last > 0 ? [`r.fsql_last <= ${x.last}`] : [])].join(' or ');
    out.push({
      table: x.table,
      select: `select ${[...keys, tile, `${ts} as ts`, `${c} as v`].join(', ')}\nfrom (\n  select ${[...keys, tile, ts, c, ...ranks].join(', ')}\n  from ${events} as r\n  where ${where} and ${c} is not null\n) as r\nwhere ${keep}`,
    });
  }
  return out;
}

/** The columns of the tiles relation, to tell whether one built earlier has today's layout (and is a per-row view). */
export function tileLayout(plan: Pick<AggregateRunPlan, 'spec' | 'keys' | 'perRow'>): string[] {
  return [...plan.keys, TILE_COLUMN, ...stateColumns(columnStates(plan.spec)), ...(plan.perRow ? [PER_ROW_COLUMN] : [])];
}

/** An incremental run (the plan's range has a start): the events from it, and the tables' tiles from the one holding it, in one transaction. */
export function renderIncrementalRun(plan: AggregateRunPlan, d: Dialect): AggregateStatements {
  const start = plan.range?.start;
  if (!start) throw new Error(`${plan.view}: an incremental run needs the range's start`);
  const from = tileOf(start, plan.spec.tileSeconds);
  const statements = [...d.incrementalWrite(d.relation(plan.tables.events), eventsSelect(plan, d), plan.timestamp, plan.range!), ...retile(plan, d, from)];
  return { statements, atomic: true };
}

/** Events from tile `from` on; the time bound repeats the tile's, so that a warehouse partitioned by time reads only those days. */
function fromTile(plan: AggregateRunPlan, d: Dialect, from: bigint): string {
  const fromTime = d.timestampLiteral(new Timestamp(from * BigInt(tileMicros(plan))));
  return `r.${d.quoteIdent(TILE_COLUMN)} >= ${from} and r.${d.quoteIdent(plan.timestamp)} >= ${fromTime}`;
}

/** Every per-tile table rebuilt from tile `from` on (per-row views follow the events by themselves). */
function retile(plan: AggregateRunPlan, d: Dialect, from: bigint): string[] {
  if (plan.perRow) return [];
  return tileSelects(plan, d, fromTile(plan, d, from)).flatMap((t) => [`delete from ${d.relation(t.table)} where ${d.quoteIdent(TILE_COLUMN)} >= ${from}`, `insert into ${d.relation(t.table)}\n${t.select}`]);
}

/**
 * Raw events pushed offline into an aggregate view (`<view>__pushed`, SPEC section 12) that its
 * events table lacks: each distinct (keys, time, inputs) once, and none the table already holds
 * (from its source, or merged by an earlier run), NULLs matching NULLs.
 */
function newPushedEvents(plan: AggregateRunPlan, d: Dialect, pushed: RelationName, inputs: string[]): string {
  const q = (c: string) => d.quoteIdent(c);
  const cols = [...plan.keys, plan.timestamp, ...inputs];
  const same = [...plan.keys, plan.timestamp].map((c) => `e.${q(c)} = p.${q(c)}`).concat(inputs.map((c) => `e.${q(c)} is not distinct from p.${q(c)}`));
  return `select distinct ${cols.map((c) => `p.${q(c)}`).join(', ')}\nfrom ${d.relation(pushed)} as p\nwhere not exists (select 1 from ${d.relation(plan.tables.events)} as e where ${same.join(' and ')})`;
}

/** The earliest time among the pushed events the view lacks (`first`; NULL when none). */
export function renderPushedEventsStart(plan: AggregateRunPlan, d: Dialect, pushed: RelationName, inputs: string[]): string {
  return `select min(n.${d.quoteIdent(plan.timestamp)}) as ${d.quoteIdent('first')}\nfrom (\n${newPushedEvents(plan, d, pushed, inputs)}\n) as n`;
}

/** The pushed events the view lacks inserted with their tile, then every tile from the one holding `start` rebuilt. */
export function renderMergePushedEvents(plan: AggregateRunPlan, d: Dialect, pushed: RelationName, inputs: string[], start: Timestamp): string[] {
  const q = (c: string) => d.quoteIdent(c);
  const cols = [...plan.keys, plan.timestamp, ...inputs].map(q);
  const tile = d.floorDivide(d.epochMicros(`n.${q(plan.timestamp)}`), tileMicros(plan));
  const insert = `insert into ${d.relation(plan.tables.events)} (${[...cols, q(TILE_COLUMN)].join(', ')})\nselect ${cols.map((c) => `n.${c}`).join(', ')}, ${tile}\nfrom (\n${newPushedEvents(plan, d, pushed, inputs)}\n) as n`;
  const from = tileOf(start, plan.spec.tileSeconds);
  return [insert, ...retile(plan, d, from)];
}
