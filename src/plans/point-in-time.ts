/**
 * A point-in-time join (SPEC section 4) as data: which events, which views, which features, which
 * time range matters. dialects/point-in-time.ts renders it for a warehouse; nothing here runs SQL.
 */
import type { CompiledView, Manifest } from '../compiler/compile.js';
import { CompileError } from '../errors.js';
import type { DataType, Timestamp } from '../values.js';
import type { RelationName } from './relation.js';
import { onDemandInputRefs } from './on-demand.js';
import { tileTables, type AggregateSpec, type TileTables } from './aggregate.js';

/** Helper columns the SQL adds to the events; they never reach the output. */
export const ROW_COLUMN = '__fsql_row';
export const TS_COLUMN = '__fsql_ts';

export interface PitEvents {
  /** the staged events table */
  table: RelationName;
  /** the events' own columns in order, when known (dialects without SELECT * EXCEPT list them) */
  columns?: string[];
  /** the event column holding the event time */
  timestamp: string;
  /**
   * Where the input order comes from: a pseudo-column of the staged table that numbers rows in
   * insertion order (DuckDB's `rowid`), or undefined when staging added a ROW_COLUMN itself.
   */
  orderColumn?: string;
}

export interface PitFeature {
  /** column of the view's table */
  column: string;
  /** output column: `<view>__<feature>` */
  output: string;
  /** the column's common type, when known (the training table casts numeric features to it) */
  type?: DataType['type'];
}

export interface PitView {
  view: string;
  table: RelationName;
  /** the view's join keys, each with the event column that carries it */
  keys: { column: string; event: string }[];
  timestamp: string;
  createdTimestamp?: string;
  ttlSeconds?: number;
  features: PitFeature[];
  /** every feature column of the view, which settle complete ties (Dialect.tieBreak) */
  allFeatures: string[];
  /** an aggregate view: its windows are computed at each event's time from tiles and edge rows (SPEC section 9) */
  aggregate?: PitAggregate;
}

export interface PitAggregate {
  spec: AggregateSpec;
  tables: TileTables;
}

/**
 * The span of event times, which bounds the feature rows that can matter: a range read from the
 * staged events, `empty` when no event has a timestamp, or `dynamic` when not known yet (a dry
 * run), in which case the SQL computes it.
 */
export type EventTimes = { min: Timestamp; max: Timestamp } | 'empty' | 'dynamic';

export interface PointInTimePlan {
  service: string;
  events: PitEvents;
  views: PitView[];
  eventTimes: EventTimes;
}

export function outputName(view: string, feature: string): string {
  return `${view}__${feature}`;
}

/** The service's views and features, read from the manifest (features may still be unknown: null). */
export function serviceViews(manifest: Manifest, service: string): { view: CompiledView; features: string[] | null }[] {
  const svc = manifest.services[service];
  if (!svc) {
    const known = Object.keys(manifest.services);
    throw new CompileError(`unknown feature service '${service}'. ${known.length > 0 ? `Services: ${known.join(', ')}.` : 'The project defines no feature_services.'}`);
  }
  // A view named twice (whole and as a subset) is joined once, with the union of its features.
  const byView = new Map<string, string[] | null>();
  // an on-demand view has no table: the stored features it reads are joined instead (plans/on-demand.ts)
  const refs = svc.features.flatMap((ref) => (manifest.views[ref.view] ? [ref] : onDemandInputRefs(manifest, ref.view)));
  for (const ref of refs) {
    const prev = byView.get(ref.view);
    if (prev === undefined) byView.set(ref.view, ref.features);
    else byView.set(ref.view, prev === null || ref.features === null ? null : [...new Set([...prev, ...ref.features])]);
  }
  return [...byView].map(([name, features]) => ({ view: manifest.views[name], features }));
}

export interface PlanInput {
  manifest: Manifest;
  service: string;
  events: PitEvents;
  /** columns of the staged events, when known: join keys are matched against them */
  eventColumns?: string[];
  /** features of each view, when the manifest could not read them statically */
  featuresOf?: (view: CompiledView) => string[] | null;
  /** a feature column's type, when the view's table has been described */
  typeOf?: (view: CompiledView, column: string) => DataType['type'] | undefined;
  eventTimes: EventTimes;
}

export function planPointInTime(input: PlanInput): PointInTimePlan {
  const views = serviceViews(input.manifest, input.service).map(({ view, features }): PitView => {
    const chosen = features ?? input.featuresOf?.(view) ?? null;
    if (!chosen) {
      throw new CompileError(`${view.file}: the feature columns of view '${view.name}' are known only once its table is built (the SELECT does not name every column); run \`fsql run --select ${view.name}\` first, or name the columns in the SELECT.`);
    }
    return {
      view: view.name,
      table: view.table,
      keys: view.join_keys.map((k) => ({ column: k, event: eventColumnFor(k, input.eventColumns) })),
      timestamp: view.config.timestamp,
      createdTimestamp: view.config.createdTimestamp,
      ttlSeconds: view.config.ttlSeconds,
      features: chosen.map((f) => ({ column: f, output: outputName(view.name, f), type: input.typeOf?.(view, f) })),
      allFeatures: input.featuresOf?.(view) ?? view.features ?? chosen,
      ...(view.config.aggregate ? { aggregate: { spec: view.config.aggregate, tables: tileTables(view.config.aggregate, view.table) } } : {}),
    };
  });
  return { service: input.service, events: input.events, views, eventTimes: input.eventTimes };
}

/** The event column for a join key: the same name, or the same name in another case. */
function eventColumnFor(key: string, columns: string[] | undefined): string {
  if (!columns || columns.includes(key)) return key;
  return columns.find((c) => c.toLowerCase() === key.toLowerCase()) ?? key;
}

/** Feature rows of `view` that can matter for events in `times`: [min - ttl, max], both inclusive. */
export function scanRange(view: Pick<PitView, 'ttlSeconds'>, times: EventTimes): { start?: Timestamp; end?: Timestamp } | 'none' | 'dynamic' {
  if (times === 'empty') return 'none';
  if (times === 'dynamic') return 'dynamic';
  return { start: view.ttlSeconds === undefined ? undefined : times.min.plusSeconds(-view.ttlSeconds), end: times.max };
}
