/**
 * Feast's `POST /push` for fsql views: `{"feature_view": name, "df": {column: [values...]}, "to":
 * "online"}` (Feast's `push_source_name` is accepted as the view's name). Only views with
 * `push: true` in YAML accept pushes. Rows go through the store's write(), so the monotonic rule
 * of sync holds: an older row never replaces a newer one, whichever of a push and a sync comes
 * last. `"to": "offline"` or `"online_and_offline"` also appends them to the push log
 * (push-log.ts), on disk before the answer and before the online write; `fsql run` merges them
 * into the view's history. An aggregate view takes raw events instead: appended to each entity's
 * pushed events online, which every read merges into its window state (online/aggregate/push.ts),
 * and offline merged into its events by `fsql run`.
 */
import { FsqlError, OnlineStoreError, RequestError } from '../errors.js';
import { pushEvents, type PushedEvent } from '../online/aggregate/push.js';
import type { AggInput } from '../online/aggregate/state.js';
import type { OnlineRow, ViewLayout } from '../online/store.js';
import { Timestamp, type DataType, type Value } from '../values.js';
import { forbidden } from './auth.js';
import {
  badRequest, expectObject, featureValue, field, GRPC, isObject, jsonTypeOf, notFound, optionalString, quote,
} from './request.js';
import { joinKeyValue } from '../online/join-keys.js';
import type { Reply, RequestContext, ServerState } from './server.js';

export const MAX_PUSH_ROWS = 10000;
/** Feast's values of `to`. */
const PUSH_TARGETS = ['online', 'offline', 'online_and_offline'];
/** A pushed row may be at most this far ahead of the server's clock (clock skew), not further. */
export const FUTURE_SKEW_SECONDS = 60;

export async function pushRows(s: ServerState, ctx: RequestContext): Promise<Reply> {
  if (!isObject(ctx.body)) throw badRequest(`the request body must be a JSON object {"feature_view": ..., "df": {...}}, not ${jsonTypeOf(ctx.body)}.`);
  const body = ctx.body;
  const name = optionalString(body, 'feature_view') ?? optionalString(body, 'push_source_name');
  if (!name) throw badRequest("'feature_view' is required: the name of the feature view to write to.");
  const to = optionalString(body, 'to') ?? 'online';
  if (!PUSH_TARGETS.includes(to)) throw badRequest(`'to' is ${quote(to)}; send "online" (the online store, the default), "offline" (the view's history, merged by fsql run) or "online_and_offline".`);
  if (ctx.principal.services.size > 0) throw forbidden('this API key is limited to some feature services and may not push; use a key created without --service.');
  const def = s.project.views.get(name);
  if (def && !def.push) throw badRequest(`feature view '${name}' does not accept pushes; add push: true to its feature_views entry in YAML (views that do: ${[...s.project.views.values()].filter((v) => v.push).map((v) => v.name).join(', ') || 'none'}).`);
  const offline = to !== 'online';
  if (offline && !s.pushLog) throw badRequest(`this server keeps no push log, so it cannot take "to": "${to}"; start it with fsql serve (which keeps one in --log-dir).`);
  const view = s.catalog.views.get(name);
  if (!view) throw notFound(`feature view ${quote(name)} is not in the online store; views: ${[...s.catalog.views.keys()].join(', ') || '(none)'} (run fsql sync first).`);
  const layout = view.layout;
  const df = expectObject(field(body, 'df') ?? null, "'df'");
  // an aggregate view takes raw events (its SELECT's input columns), merged into each entity's windows
  const columns = layout.aggregate ? eventsLayout(layout).features : layout.features;

  const tsColumn = Object.hasOwn(df, view.timestampColumn) ? view.timestampColumn : 'event_timestamp';
  const known = new Set([...layout.joinKeys.map((k) => k.name), ...columns.map((f) => f.name), tsColumn, ...(view.createdColumn ? [view.createdColumn] : [])]);
  for (const col of Object.keys(df)) {
    if (!known.has(col)) throw badRequest(`'df' has column ${quote(col)}, which feature view '${name}' does not have; its columns: ${[...known].join(', ')}.`);
  }
  let rows = -1;
  const column = (col: string, required: boolean): unknown[] | undefined => {
    if (!Object.hasOwn(df, col)) {
      if (required) throw badRequest(`'df' lacks column '${col}' of feature view '${name}'; send every join key, '${view.timestampColumn}' and every ${layout.aggregate ? 'input column' : 'feature'}.`);
      return undefined;
    }
    const values = df[col];
    if (!Array.isArray(values)) throw badRequest(`df['${col}'] must be a list of values, not ${jsonTypeOf(values)}.`);
    if (rows >= 0 && values.length !== rows) throw badRequest(`the columns of 'df' differ in length (${rows} and ${values.length}).`);
    rows = values.length;
    return values;
  };
  const keyCols = layout.joinKeys.map((k) => column(k.name, true)!);
  const tsCol = column(tsColumn, true)!;
  const createdCol = view.createdColumn ? column(view.createdColumn, false) : undefined;
  const valueCols = columns.map((f) => column(f.name, true)!);
  if (rows <= 0) throw badRequest("'df' holds no rows.");
  if (rows > MAX_PUSH_ROWS) throw badRequest(`'df' holds ${rows} rows; push at most ${MAX_PUSH_ROWS} per request.`);

  const latest = Timestamp.fromMillis(ctx.now.millis + FUTURE_SKEW_SECONDS * 1000);
  // an aggregate view pushed online only needs its events, not rows
  const wantRows = offline || !layout.aggregate;
  const out: OnlineRow[] = [];
  const events: PushedEvent[] = [];
  // what messages call each column; a bad cell's message gains its row (built only then: a push checks every cell)
  const tsWhat = `'${tsColumn}'`;
  const createdWhat = `'${view.createdColumn}'`;
  const whats = columns.map((f) => `'${f.name}'`);
  for (let r = 0; r < rows; r++) {
    try {
      const key: Value[] = layout.joinKeys.map((k, i) => {
        const v = joinKeyValue(keyCols[i][r], k);
        if (v === null) throw badRequest(`join key '${k.name}' is null; every pushed row needs its keys.`);
        return v;
      });
      const ts = timestampOf(tsCol[r], tsWhat);
      if (ts.micros > latest.micros) {
        throw badRequest(`${tsWhat} ${ts.toISOString()} is in the future; a value cannot be served before it becomes true. Push it when it is.`);
      }
      const created = createdCol && createdCol[r] !== null ? timestampOf(createdCol[r], createdWhat) : undefined;
      const values = new Array<Value>(columns.length);
      for (let i = 0; i < values.length; i++) values[i] = featureValue(valueCols[i][r], columns[i].type, whats[i]);
      if (layout.aggregate) events.push({ key, ts, values: values.map((v) => (v instanceof Timestamp ? v.micros : (v as AggInput | null))) });
      if (!wantRows) continue;
      const byName: Record<string, Value> = {};
      for (let i = 0; i < values.length; i++) byName[columns[i].name] = values[i];
      out.push(created ? { key, ts, created, values: byName } : { key, ts, values: byName });
    } catch (e) {
      throw e instanceof RequestError ? new RequestError(e.status, e.grpcCode, `row ${r}: ${e.message}`) : e;
    }
  }
  if (offline) {
    try {
      // an aggregate view's offline rows are its raw events: its input columns stand for the features
      await s.pushLog!.append(layout.aggregate ? eventsLayout(layout) : layout, view.createdColumn, out, ctx.now);
    } catch (e) {
      throw new RequestError(503, GRPC.UNAVAILABLE, `the push log could not be written (nothing was pushed): ${(e as Error).message}`);
    }
    s.metrics.inc('fsql_push_rows_total', { feature_view: name, outcome: 'logged_offline' }, out.length);
    if (to === 'offline') return { body: JSON.stringify({ feature_view: name, rows, written: 0, stale: 0, offline: rows }) };
  }
  const counted = (outcome: string, n: number) => s.metrics.inc('fsql_push_rows_total', { feature_view: name, outcome }, n);
  try {
    if (layout.aggregate) {
      const result = await pushEvents(s.store, layout, events, ctx.now);
      counted('accepted', result.accepted);
      counted('outside_horizon', result.outside);
      return { body: JSON.stringify({ feature_view: name, rows, ...result, ...(offline ? { offline: rows } : {}) }) };
    }
    const result = await s.store.write(layout, out);
    counted('written', result.written);
    counted('stale', result.stale);
    return { body: JSON.stringify({ feature_view: name, rows, written: result.written, stale: result.stale, ...(offline ? { offline: rows } : {}) }) };
  } catch (e) {
    s.metrics.inc('fsql_online_store_errors_total', { endpoint: ctx.endpoint });
    throw e instanceof FsqlError ? e : new OnlineStoreError(`the online store did not take the rows: ${(e as Error)?.message ?? String(e)}`);
  }
}

const eventsLayouts = new WeakMap<ViewLayout, ViewLayout>();
/** An aggregate view's layout with its input columns as the features, built once per layout (the push log keys its header on it). */
function eventsLayout(layout: ViewLayout): ViewLayout {
  let l = eventsLayouts.get(layout);
  if (!l) eventsLayouts.set(layout, (l = { view: layout.view, joinKeys: layout.joinKeys, features: layout.aggregate!.inputs.map((x) => ({ name: x.name, type: { type: x.type } as DataType })) }));
  return l;
}

function timestampOf(raw: unknown, what: string): Timestamp {
  const ts = typeof raw === 'string' ? Timestamp.parse(raw) : undefined;
  if (!ts) throw badRequest(`${what} must be an ISO 8601 timestamp string such as 2024-01-31T12:00:00Z, not ${raw === null ? 'null' : quote(raw)}.`);
  return ts;
}
