/**
 * `fsql skew-check`: the product's promise as a command. For N entities it reads each feature
 * vector from the online store at an instant `now`, builds the training rows of the same entities
 * with event_timestamp = `now` using the SQL `fsql train` runs (plans/point-in-time.ts rendered by
 * dialects/point-in-time.ts, with each view's timestamp column joined as one more column so the
 * effective times can be compared too), and reports every value, status or effective time that
 * differs. Values are compared exactly: int64 as bigint, float64 bit for bit (the online codec
 * stores the shortest round-trip text of a double, so nothing is lost), timestamps to the micro.
 *
 * The entities: those with the newest rows in the offline table of the service's view with the
 * most join keys (keys that view lacks are taken from the other views), so most are within their
 * TTLs and have values to compare.
 */
import { compileProject, featuresOf, type Manifest } from '../compiler/compile.js';
import { renderPointInTime } from '../dialects/point-in-time.js';
import { renderLiteral, renderNewestEntities, renderRows } from '../dialects/queries.js';
import { CommandFailed, ProjectError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OnlineStore } from '../online/store.js';
import { planService, readVectors, type FeatureValue, type ServicePlan } from '../online/vector.js';
import { planPointInTime } from '../plans/point-in-time.js';
import { floatTolerance } from '../plans/aggregate.js';
import type { Project } from '../project/types.js';
import { Timestamp, type Column, type DataType, type Row, type Value } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { findColumn, stageEvents, stagingName } from './events.js';
import { renderOnDemandTraining } from '../dialects/on-demand-training.js';
import { onDemandSpecs } from '../online/on-demand-plan.js';
import { seededRandom } from '../seeded-random.js';
import { onDemandTraining } from './on-demand-train.js';

export interface SkewCheckOptions {
  service: string;
  /** entities to compare (default 100) */
  sample?: number;
  /** the instant both sides are read at (default: now) */
  now?: Timestamp;
}

export interface SkewDifference {
  entity: Record<string, Value>;
  feature: string;
  online: { status: string; value: Value; effectiveTime?: Timestamp };
  training: { value: Value; effectiveTime?: Timestamp };
}

export interface SkewCheckResult {
  service: string;
  now: Timestamp;
  entities: number;
  features: number;
  /** cells (entity x feature) compared */
  compared: number;
  /** cells where both sides hold a value */
  present: number;
  differences: SkewDifference[];
}

export const EVENT_TS = 'event_timestamp';
const SKEW_SERVICE = '__fsql_skew_check';

export async function skewCheck(project: Project, wh: Warehouse, store: OnlineStore, log: Logger, opts: SkewCheckOptions): Promise<SkewCheckResult> {
  const service = project.services.get(opts.service);
  if (!service) throw new ProjectError('--service', `no feature service '${opts.service}'. Services: ${[...project.services.keys()].join(', ') || 'none'}.`);
  const sample = opts.sample ?? 100;
  if (!Number.isInteger(sample) || sample < 1) throw new ProjectError('--sample', `must be a whole number of at least 1, not ${sample}.`);
  const now = opts.now ?? Timestamp.fromMillis(Date.now());
  const layouts = new Map((await store.getLayouts()).map((l) => [l.view, l]));
  const plan = planService(service, layouts, onDemandSpecs(project, service.features, layouts));
  const c = await compileProject(project);
  const d = wh.dialect;

  log.progress('sampling entities');
  const entities = await sampleEntities(wh, c.manifest, plan, sample);
  if (entities.length === 0) throw new CommandFailed(`the offline tables of service '${service.name}' hold no entities; run fsql run and fsql sync first.`);

  // on-demand views: the same request values on both sides, drawn from a seeded generator
  const requests = entities.map((_e, i) => sampleRequest(plan, i));

  log.progress('reading the online store');
  const online = await readVectors(store, plan, entities, { now, requests });

  log.progress('building the training rows');
  const training = await trainingRows(project, wh, c.manifest, plan, entities, now, requests);

  const differences: SkewDifference[] = [];
  let present = 0;
  /** per aggregate view, per feature, how far its float values may differ */
  const tolerances = new Map([...project.views.values()].flatMap((v) => (v.config.aggregate ? [[v.name, new Map(v.config.aggregate.features.map((f) => [f.name, floatTolerance(f.function)]))] as const] : [])));
  entities.forEach((entity, e) => {
    const row = training[e];
    online[e].forEach((f) => {
      if (project.onDemandViews.has(f.view)) {
        const value = row[`${f.view}__${f.feature}`] ?? null;
        if (!sameValue(f.value, value, f.type)) differences.push({ entity, feature: f.name, online: { status: f.status, value: f.value }, training: { value } });
        else if (value !== null) present++;
        return;
      }
      const tolerance = tolerances.get(f.view)?.get(f.feature);
      if (tolerance !== undefined) {
        // an aggregate view: windows at `now` on both sides; no effective time to compare (online: the sync time)
        const value = row[`${f.view}__${f.feature}`] ?? null;
        if (f.status !== 'PRESENT' || !sameAggregate(f.value, value, f.type, tolerance)) differences.push({ entity, feature: f.name, online: { status: f.status, value: f.value, effectiveTime: f.effectiveTime }, training: { value } });
        else present++;
        return;
      }
      const trainedTs = row[tsOutput(f.view, project)];
      const trained = trainedTs instanceof Timestamp ? { value: row[`${f.view}__${f.feature}`] ?? null, effectiveTime: trainedTs } : { value: null };
      const diff = compareCell(f, trained, f.type);
      if (trained.effectiveTime && f.status === 'PRESENT') present++;
      if (diff) differences.push({ entity, feature: f.name, online: { status: f.status, value: f.value, effectiveTime: f.effectiveTime }, training: trained });
    });
  });
  log.endProgress();
  return { service: service.name, now, entities: entities.length, features: plan.features.length, compared: entities.length * plan.features.length, present, differences };
}

function tsOutput(view: string, project: Project): string {
  return `${view}__${project.views.get(view)!.config.timestamp}`;
}

/** True when the two sides differ in status, effective time or value. */
function compareCell(f: FeatureValue, trained: { value: Value; effectiveTime?: Timestamp }, type: DataType): boolean {
  if (!trained.effectiveTime) return f.status === 'PRESENT';
  if (f.status !== 'PRESENT' || !f.effectiveTime) return true;
  if (f.effectiveTime.micros !== trained.effectiveTime.micros) return true;
  return !sameValue(f.value, trained.value, type);
}

/**
 * An aggregate feature's two values: exact, but float64 to a relative `tolerance` (floatTolerance),
 * because the server merges the synced state with the raw rows in another order than the
 * warehouse merges tiles (the same formulas, summed in another order).
 */
function sameAggregate(a: Value, b: Value, type: DataType, tolerance: number): boolean {
  if (type.type === 'float64' && typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  if (type.type === 'array' && Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameAggregate(x, b[i], type.elementType ?? { type: 'string' }, tolerance));
  return sameValue(a, b, type);
}

export function sameValue(a: Value, b: Value, type: DataType): boolean {
  if (a === null || b === null) return a === b;
  switch (type.type) {
    case 'int64':
      return toBigInt(a) === toBigInt(b);
    case 'float64':
      return Object.is(Number(a), Number(b)) || (Number(a) === 0 && Number(b) === 0);
    case 'timestamp':
      return a instanceof Timestamp && b instanceof Timestamp && a.micros === b.micros;
    case 'array': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      const el = type.elementType ?? { type: 'string' };
      return a.every((x, i) => sameValue(x, b[i], el));
    }
    default:
      return a === b;
  }
}

function toBigInt(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** The entities with the newest offline rows, as join key maps (typed values). */
async function sampleEntities(wh: Warehouse, manifest: Manifest, plan: ServicePlan, n: number): Promise<Record<string, Value>[]> {
  const d = wh.dialect;
  const keysOf = (view: string) => plan.views.find((v) => v.layout.view === view)!.layout.joinKeys.map((k) => k.name);
  const views = [...plan.views].map((v) => v.layout.view).sort((a, b) => keysOf(b).length - keysOf(a).length);
  const out: Record<string, Value>[] = [];
  const covered = new Set<string>();
  for (const view of views) {
    const keys = keysOf(view).filter((k) => !covered.has(k));
    if (keys.length === 0) continue;
    const mv = manifest.views[view];
    const rows = await wh.query(renderNewestEntities(d, mv.table, keys, mv.config.timestamp, n), { label: `skew-check sample of ${view}` });
    if (rows.length === 0) continue;
    const first = out.length === 0;
    for (let i = 0; i < (first ? rows.length : out.length); i++) {
      const row = rows[i % rows.length];
      if (first) out.push({});
      for (const k of keys) out[i][k] = valueOf(row, k);
    }
    keys.forEach((k) => covered.add(k));
  }
  return out.filter((e) => plan.joinKeys.every((k) => k.name in e));
}

function valueOf(row: Row, column: string): Value {
  const key = Object.keys(row).find((k) => k === column) ?? Object.keys(row).find((k) => k.toLowerCase() === column.toLowerCase());
  return key === undefined ? null : row[key];
}

/** The training rows of `entities` at `now`, in entity order, through the same plan and SQL as `fsql train`. */
async function trainingRows(project: Project, wh: Warehouse, manifest: Manifest, plan: ServicePlan, entities: Record<string, Value>[], now: Timestamp, requests: Record<string, Value>[]): Promise<Row[]> {
  const d = wh.dialect;
  const t = project.target;
  // the service's views and features, plus each view's timestamp column (its effective time)
  const features: { view: string; features: string[] }[] = [];
  const offlineFeatures = new Map<string, string[]>();
  const tables = new Map<string, Column[]>();
  for (const [j, v] of plan.views.entries()) {
    const name = v.layout.view;
    const def = project.views.get(name)!;
    const columns = await wh.describe(manifest.views[name].table);
    if (!columns) throw new ProjectError(def.file, `feature view '${name}' has no offline table; build it with fsql run --select ${name}.`);
    const offline = featuresOf(def, columns.map((col) => col.name));
    offlineFeatures.set(name, offline);
    tables.set(name, columns);
    const onDemandInputs = plan.onDemand.flatMap((o) => o.inputs.flatMap((input) => ('viewIndex' in input && input.viewIndex === j ? [input.feature] : [])));
    const wanted = [...new Set([...v.featureIndexes.map((i) => plan.features[i].feature), ...onDemandInputs])];
    // an aggregate view's features are computed from its events table, not columns of it
    const missing = def.config.aggregate ? [] : wanted.filter((f) => !findColumn(columns, f));
    if (missing.length) throw new ProjectError(def.file, `the offline table of '${name}' lacks ${missing.join(', ')} (it has ${offline.join(', ')}); run fsql run --select ${name}.`);
    features.push({ view: name, features: def.config.aggregate ? wanted : [...wanted, def.config.timestamp] });
  }
  const onDemandRefs = [...new Set(plan.onDemand.map((o) => o.view))].map((view) => ({ view, features: plan.features.filter((f) => f.view === view).map((f) => f.feature) }));
  const skewManifest: Manifest = { ...manifest, services: { ...manifest.services, [SKEW_SERVICE]: { description: '', online: false, features: [...features, ...onDemandRefs] } } };

  const query = renderRows(
    d,
    entities.map((e, i) => [
      ...plan.joinKeys.map((k): [string, string] => [k.name, renderLiteral(d, e[k.name], k.type)]),
      [EVENT_TS, d.timestampLiteral(now)],
      ...plan.requestFields.map((f): [string, string] => [f.name, renderLiteral(d, requests[i][f.name], f.type)]),
    ]),
  );
  const eventColumns: Column[] = [...plan.joinKeys, { name: EVENT_TS, type: { type: 'timestamp' } }, ...plan.requestFields];
  const staged = stagingName(d, t);
  const events = await stageEvents(wh, { kind: 'sql', query, display: 'skew-check entities' }, staged);
  try {
    const pit = planPointInTime({
      manifest: skewManifest,
      service: SKEW_SERVICE,
      events: { table: events.table, columns: eventColumns.map((col) => col.name), timestamp: EVENT_TS, orderColumn: events.orderColumn },
      eventColumns: eventColumns.map((col) => col.name),
      eventTimes: { min: now, max: now },
      featuresOf: (view) => offlineFeatures.get(view.name) ?? null,
    });
    const onDemand = onDemandTraining(project, skewManifest, SKEW_SERVICE, tables, eventColumns, 'of skew-check');
    const columns = [...eventColumns.map((col) => col.name), ...pit.views.flatMap((v) => v.features.map((f) => f.output))];
    const select = onDemand.length === 0 ? renderPointInTime(pit, d) : renderOnDemandTraining(renderPointInTime(pit, d, { ordered: false, keepRow: true }), d, columns, onDemand, true);
    const out = await wh.query(select, { label: 'skew-check training rows' });
    if (out.length !== entities.length) throw new CommandFailed(`the training join returned ${out.length} rows for ${entities.length} entities; every event must appear exactly once.`);
    out.forEach((row, i) => {
      for (const k of plan.joinKeys) {
        if (!sameValue(valueOf(row, k.name), entities[i][k.name], k.type)) throw new CommandFailed(`the training join returned row ${i} for another entity than was asked (${k.name}); the event order was not kept.`);
      }
    });
    return out;
  } finally {
    await wh.execute(d.dropTable(d.relation(staged))).catch(() => undefined);
  }
}

const SAMPLE_TEXT = ['food', 'crypto', 'gambling', 'électronique', '', 'x y'];

/** Request field values for entity i: the same on the server's side and the warehouse's. */
function sampleRequest(plan: ServicePlan, i: number): Record<string, Value> {
  const r = seededRandom(i + 1);
  return Object.fromEntries(
    plan.requestFields.map((f) => {
      const v: Value = f.type.type === 'float64' ? Math.round(r() * 100000) / 100 : f.type.type === 'int64' ? BigInt(Math.floor(r() * 1000)) : f.type.type === 'boolean' ? r() < 0.5 : f.type.type === 'string' ? SAMPLE_TEXT[Math.floor(r() * SAMPLE_TEXT.length)] : null;
      return [f.name, v];
    }),
  );
}

/** A value as the report shows it. */
export function showValue(v: Value): string {
  if (v === null) return 'null';
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(showValue).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return String(v);
}
