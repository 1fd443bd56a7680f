/**
 * Feast's `POST /get-online-features`: entities column-major in, features column-major out, join
 * keys first, with Feast's statuses (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE) and event timestamps.
 * Features come from a service (`feature_service`, in the service's order) or a list of
 * `view:feature` references (in the list's order).
 */
import { joinKeyValue } from '../online/join-keys.js';
import { fieldValue } from '../online/request-fields.js';
import { planService, typedVector, type FeatureValue, type ServicePlan } from '../online/vector.js';
import type { Value } from '../values.js';
import { forbidden, type Principal } from './auth.js';
import { writeFeastJson } from './encode.js';
import { badRequest, expectObject, field, isObject, jsonTypeOf, notFound, optionalBoolean, quote } from './request.js';
import type { Reply, RequestContext, ServerState } from './server.js';
import { serviceByName } from './tecton.js';

/** Entity rows per request. */
export const MAX_ENTITY_ROWS = 10000;
const EPOCH = '1970-01-01T00:00:00Z';

interface Selection {
  plan: ServicePlan;
  /** for each output feature, its index in plan.features */
  order: number[];
}

function fromReferences(s: ServerState, refs: unknown[], principal: Principal): Selection {
  if (refs.length === 0) throw badRequest("'features' is empty; list features as \"view:feature\".");
  const wanted: { view: string; feature: string }[] = [];
  for (const ref of refs) {
    if (typeof ref !== 'string') throw badRequest(`'features' must hold strings "view:feature", not ${jsonTypeOf(ref)}.`);
    const colon = ref.indexOf(':');
    if (colon <= 0 || colon === ref.length - 1) throw badRequest(`feature reference ${quote(ref)} must be "view:feature".`);
    const view = ref.slice(0, colon);
    const feature = ref.slice(colon + 1);
    const cv = s.catalog.views.get(view);
    if (!cv) throw notFound(`feature view ${quote(view)} not found in the online store; views: ${[...s.catalog.views.keys()].join(', ') || '(none)'}.`);
    if (!cv.layout.features.some((f) => f.name === feature)) {
      throw notFound(`feature view '${view}' has no feature ${quote(feature)}; its features: ${cv.layout.features.map((f) => f.name).join(', ')}.`);
    }
    if (principal.services.size > 0) {
      const allowed = [...principal.services].some((name) => s.catalog.services.get(name)?.features.some((f) => f.view === view && f.feature === feature));
      if (!allowed) throw forbidden(`this API key may not read '${view}:${feature}' (it is in none of the key's services).`);
    }
    if (!wanted.some((w) => w.view === view && w.feature === feature)) wanted.push({ view, feature });
  }
  const byView = new Map<string, string[]>();
  for (const w of wanted) byView.set(w.view, [...(byView.get(w.view) ?? []), w.feature]);
  const layouts = new Map([...s.catalog.views].map(([name, cv]) => [name, cv.layout]));
  const plan = planService({ name: 'get-online-features', features: [...byView].map(([view, features]) => ({ view, features })) }, layouts);
  return { plan, order: wanted.map((w) => plan.features.findIndex((f) => f.view === w.view && f.feature === w.feature)) };
}

export async function feastGetOnlineFeatures(s: ServerState, ctx: RequestContext): Promise<Reply> {
  if (!isObject(ctx.body)) throw badRequest(`the request body must be a JSON object {"feature_service": ..., "entities": {...}}, not ${jsonTypeOf(ctx.body)}.`);
  const body = ctx.body;
  const serviceName = field(body, 'feature_service');
  const refs = field(body, 'features');
  const fullNames = optionalBoolean(body, 'full_feature_names') ?? false;
  let sel: Selection;
  if (serviceName !== undefined && refs !== undefined) throw badRequest("send 'feature_service' or 'features', not both.");
  if (serviceName !== undefined) {
    if (typeof serviceName !== 'string') throw badRequest(`'feature_service' must be a string, not ${jsonTypeOf(serviceName)}.`);
    const plan = serviceByName(s, serviceName, ctx).plan!;
    sel = { plan, order: plan.features.map((_, i) => i) };
  } else if (refs !== undefined) {
    if (!Array.isArray(refs)) throw badRequest(`'features' must be a list of "view:feature", not ${jsonTypeOf(refs)}.`);
    sel = fromReferences(s, refs, ctx.principal);
  } else {
    throw badRequest("send 'feature_service' (a service name) or 'features' (a list of \"view:feature\").");
  }
  const { plan } = sel;

  const entities = expectObject(field(body, 'entities') ?? null, "'entities'");
  const expected = () => plan.joinKeys.map((k) => k.name).join(', ');
  for (const k of Object.keys(entities)) {
    if (!plan.joinKeys.some((j) => j.name === k) && !plan.requestFields.some((f) => f.name === k)) throw badRequest(`unknown entity key ${quote(k)}; these features take ${expected()}.`);
  }
  let rows = -1;
  const columns = plan.joinKeys.map((k) => {
    if (!Object.hasOwn(entities, k.name)) throw badRequest(`entity key '${k.name}' is missing; these features take ${expected()}.`);
    const col = entities[k.name];
    if (!Array.isArray(col)) throw badRequest(`entities['${k.name}'] must be a list of values, not ${jsonTypeOf(col)}.`);
    if (rows >= 0 && col.length !== rows) throw badRequest(`entity columns differ in length (${rows} and ${col.length}); send one value per row in each.`);
    rows = col.length;
    return col as unknown[];
  });
  if (rows <= 0) throw badRequest("'entities' holds no rows; send at least one value per join key.");
  if (rows > MAX_ENTITY_ROWS) throw badRequest(`'entities' holds ${rows} rows; send at most ${MAX_ENTITY_ROWS} per request.`);

  const names = sel.order.map((i) => (fullNames ? `${plan.features[i].view}__${plan.features[i].feature}` : plan.features[i].feature));
  if (!fullNames) {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw badRequest(`feature name '${n}' appears in more than one view; send "full_feature_names": true.`);
      seen.add(n);
    }
  }
  const keys: Value[][] = [];
  for (let r = 0; r < rows; r++) keys.push(plan.joinKeys.map((k, i) => joinKeyValue(columns[i][r], k)));
  const requests = requestRows(plan, entities, rows);
  const read = await s.reader.read(ctx.endpoint, plan, keys, ctx.now);
  // a service's answer is logged; a list of view:feature references belongs to no service
  if (serviceName !== undefined) s.featureLog?.record(plan, ctx.now, keys, requests, read.rows);
  const vectors = read.rows.map((served, r) => typedVector(plan, served, requests[r]));

  // join key columns echo the request's values, as Feast does
  const results: unknown[] = plan.joinKeys.map((_, i) => ({ values: columns[i], statuses: new Array(rows).fill('PRESENT'), event_timestamps: new Array(rows).fill(EPOCH) }));
  for (const i of sel.order) {
    const values: Value[] = new Array(rows);
    const statuses: string[] = new Array(rows);
    const times: string[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const v: FeatureValue = vectors[r][i];
      if (v.status === 'PRESENT') {
        values[r] = v.value;
        statuses[r] = 'PRESENT';
        times[r] = v.effectiveTime ? v.effectiveTime.toISOString() : EPOCH;
      } else {
        values[r] = null;
        statuses[r] = v.reason === 'expired' ? 'OUTSIDE_MAX_AGE' : 'NOT_FOUND';
        times[r] = EPOCH;
      }
    }
    results.push({ values, statuses, event_timestamps: times });
  }
  return { body: writeFeastJson({ metadata: { feature_names: [...plan.joinKeys.map((k) => k.name), ...names] }, results }) };
}

/** Request data of on-demand features, passed beside the entities as Feast does: per row, plan.requestFields' values. */
function requestRows(plan: ServicePlan, entities: Record<string, unknown>, rows: number): Value[][] {
  const columns = plan.requestFields.map((f) => {
    const col = entities[f.name];
    if (!Object.hasOwn(entities, f.name)) {
      throw badRequest(`request field '${f.name}' is missing from 'entities'; the on-demand features need ${plan.requestFields.map((x) => `${x.name} (${x.type.type})`).join(', ')} beside the join keys.`);
    }
    if (!Array.isArray(col) || col.length !== rows) throw badRequest(`entities['${f.name}'] must be a list of ${rows} values, one per row, not ${jsonTypeOf(col)}${Array.isArray(col) ? ` of ${col.length}` : ''}.`);
    return col as unknown[];
  });
  const out: Value[][] = [];
  for (let r = 0; r < rows; r++) out.push(plan.requestFields.map((f, i) => fieldValue(columns[i][r], f, `entities['${f.name}'][${r}]`)));
  return out;
}
