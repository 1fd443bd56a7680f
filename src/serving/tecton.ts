/**
 * Tecton's HTTP API (SPEC section 6): get-features, get-features-batch, metadata, and the list of
 * services. Field names are accepted in snake_case and camelCase; fields fsql does not use
 * (requestOptions, allowPartialResults, featureServiceId: null, ...) are accepted as Tecton's own
 * clients send them. `result` holds exactly `features`.
 */
import { featuresJson } from './feature-json.js';
import { parseJoinKeyMap } from '../online/join-keys.js';
import { evaluateOnDemand, type ServedRow, type ServicePlan } from '../online/vector.js';
import { forbidden, mayRead } from './auth.js';
import { UnavailableService, type CatalogFeature, type CatalogService } from './catalog.js';
import { dataTypeJson, valueJson } from './encode.js';
import { parseRequestContext } from '../online/request-fields.js';
import {
  badRequest, expectObject, field, isObject, jsonTypeOf, notFound, optionalBoolean, optionalObject, optionalString, quote, type JsonObject,
} from './request.js';
import type { Reply, RequestContext, ServerState } from './server.js';
import type { Value } from '../values.js';

export interface MetadataOptions {
  names: boolean;
  effectiveTimes: boolean;
  dataTypes: boolean;
  sloInfo: boolean;
  servingStatus: boolean;
  descriptions: boolean;
  tags: boolean;
}

const OPTION_FIELDS: [keyof MetadataOptions, string, string][] = [
  ['names', 'include_names', 'includeNames'],
  ['effectiveTimes', 'include_effective_times', 'includeEffectiveTimes'],
  ['dataTypes', 'include_data_types', 'includeDataTypes'],
  ['sloInfo', 'include_slo_info', 'includeSloInfo'],
  ['servingStatus', 'include_serving_status', 'includeServingStatus'],
  ['descriptions', 'include_feature_descriptions', 'includeFeatureDescriptions'],
  ['tags', 'include_feature_tags', 'includeFeatureTags'],
];

/** The `params` object of a Tecton request. */
export function paramsOf(body: unknown): JsonObject {
  if (!isObject(body)) throw badRequest(`the request body must be a JSON object {"params": {...}}, not ${jsonTypeOf(body)}.`);
  const params = field(body, 'params');
  if (params === undefined) throw badRequest('the request body has no "params" object; send {"params": {"feature_service_name": ..., "join_key_map": {...}}}.');
  return expectObject(params, "'params'");
}

/** Resolves feature_service_name (or featureServiceId) and workspace_name, and checks the key may read it. */
export function serviceOf(s: ServerState, params: JsonObject, ctx: RequestContext): CatalogService {
  const name = optionalString(params, 'feature_service_name', 'featureServiceName');
  const id = optionalString(params, 'feature_service_id', 'featureServiceId');
  if (name !== undefined && id !== undefined && name !== id) throw badRequest('send feature_service_name or feature_service_id, not both.');
  const wanted = name ?? id;
  if (wanted === undefined || wanted === '') throw badRequest("'feature_service_name' is required.");
  const workspace = optionalString(params, 'workspace_name', 'workspaceName');
  if (workspace !== undefined && workspace !== '' && !s.catalog.isWorkspace(workspace)) {
    throw notFound(`workspace ${quote(workspace)} not found; this server serves workspace '${s.catalog.projectName}' (or '${s.catalog.targetName}').`);
  }
  return serviceByName(s, wanted, ctx);
}

/** The service named `wanted`, once found also the request's `service` (its metrics' label), then checked: readable, online, servable. */
export function serviceByName(s: ServerState, wanted: string, ctx: RequestContext): CatalogService {
  const service = s.catalog.services.get(wanted);
  if (!service) {
    throw notFound(`feature service ${quote(wanted)} not found; services: ${[...s.catalog.services.keys()].join(', ') || '(none)'}.`);
  }
  ctx.service = service.name;
  if (!mayRead(ctx.principal, service.name)) throw forbidden(`this API key may not read feature service '${service.name}'.`);
  if (!service.online) throw notFound(`feature service '${service.name}' is not online (online: false in its YAML).`);
  if (!service.plan) throw new UnavailableService(service.unavailable ?? `feature service '${service.name}' cannot be served.`);
  return service;
}

function metadataOptionsOf(params: JsonObject): MetadataOptions {
  const raw = optionalObject(params, 'metadata_options', 'metadataOptions');
  const opts: MetadataOptions = { names: false, effectiveTimes: false, dataTypes: false, sloInfo: false, servingStatus: false, descriptions: false, tags: false };
  if (raw) for (const [k, snake, camel] of OPTION_FIELDS) opts[k] = optionalBoolean(raw, snake, camel) ?? false;
  return opts;
}

/** Checks the fields fsql accepts but does not use, so a wrong type is still a 400. */
function checkUnusedFields(params: JsonObject): void {
  optionalBoolean(params, 'allow_partial_results', 'allowPartialResults');
  optionalObject(params, 'request_options', 'requestOptions');
}

/** The join_key_map of `params` or of entry `at` of request_data, as the service's join key values (join-keys.ts). */
export function joinKeysOf(service: CatalogService, entry: unknown, at?: number): Value[] {
  const what = at === undefined ? 'params' : `request_data[${at}]`;
  const row = expectObject(entry, what);
  const map = field(row, 'join_key_map', 'joinKeyMap');
  if (map === undefined) throw badRequest(`${what}: 'join_key_map' is required; feature service '${service.name}' takes join keys ${service.joinKeys.map((k) => k.name).join(', ')}.`);
  return parseJoinKeyMap(service.plan!.joinKeys, map, what, service.name);
}

/** The request_context_map of `params` or of entry `at` of request_data, as the plan's request fields (request-fields.ts). */
export function requestFieldsOf(service: CatalogService, entry: unknown, at?: number): Value[] {
  const what = at === undefined ? 'params' : `request_data[${at}]`;
  const map = optionalObject(expectObject(entry, what), 'request_context_map', 'requestContextMap');
  return parseRequestContext(service.plan!.requestFields, map, what, service.name);
}

/** One entity's answer: its features' JSON texts in response order, and the rows they came from. */
interface Vector {
  features: string[];
  served: ServedRow[];
  /** per view, the effective time's JSON text (an ISO 8601 string, or null where not PRESENT); only when asked for */
  times?: string[];
}

export function vectorOf(plan: ServicePlan, served: ServedRow[], withTimes: boolean, request: readonly Value[]): Vector {
  const features = new Array<string>(plan.features.length);
  if (plan.onDemand.length > 0) evaluateOnDemand(plan, served, request, (i, value) => (features[i] = valueJson(value)));
  for (let j = 0; j < plan.views.length; j++) {
    const view = plan.views[j];
    const { row, reason } = served[j];
    if (reason === undefined) featuresJson(view.layout, row!, view.slots, features);
    else for (const i of view.featureIndexes) features[i] = 'null';
  }
  const times = withTimes ? served.map(({ row, reason }) => (reason === undefined ? `"${row!.ts.toISOString()}"` : 'null')) : undefined;
  return { features, served, times };
}

/** Feature i's serving status in a vector, as JSON text. */
function statusOf(plan: ServicePlan, v: Vector, i: number): string {
  const j = plan.featureViews[i];
  return j < 0 || v.served[j].reason === undefined ? '"PRESENT"' : '"MISSING_DATA"';
}

/** Feature i's effective time in a vector, as JSON text (vectorOf with times). */
function timeOf(plan: ServicePlan, v: Vector, i: number): string {
  const j = plan.featureViews[i];
  return j < 0 ? 'null' : v.times![j];
}

/**
 * The fixed part of each feature's metadata object for a service and a set of options (name,
 * dataType, description, tags), as JSON text without its closing brace; built once per combination.
 */
const prefixCache = new WeakMap<CatalogService, Map<number, string[]>>();

function metaPrefixes(service: CatalogService, o: MetadataOptions): string[] {
  const mask = (o.names ? 1 : 0) | (o.dataTypes ? 2 : 0) | (o.descriptions ? 4 : 0) | (o.tags ? 8 : 0);
  let byMask = prefixCache.get(service);
  if (!byMask) prefixCache.set(service, (byMask = new Map()));
  let prefixes = byMask.get(mask);
  if (!prefixes) {
    prefixes = service.features.map((f: CatalogFeature) => {
      const m: Record<string, unknown> = {};
      if (o.names) m.name = f.name;
      if (o.dataTypes) m.dataType = dataTypeJson(f.type);
      if (o.descriptions && f.description) m.description = f.description;
      if (o.tags && f.tags) m.tags = f.tags;
      return JSON.stringify(m).slice(0, -1);
    });
    byMask.set(mask, prefixes);
  }
  return prefixes;
}

/** `"features":[...]` of the metadata: per feature its fixed part, then effectiveTime and status texts. */
function metaFeatures(service: CatalogService, o: MetadataOptions, time: (i: number) => string | undefined, status: (i: number) => string): string {
  const prefixes = metaPrefixes(service, o);
  let out = '"features":[';
  for (let i = 0; i < prefixes.length; i++) {
    let m = prefixes[i];
    let sep = m.length > 1 ? ',' : '';
    if (o.effectiveTimes) {
      const t = time(i);
      if (t !== undefined) {
        m += `${sep}"effectiveTime":${t}`;
        sep = ',';
      }
    }
    if (o.servingStatus) m += `${sep}"status":${status(i)}`;
    out += (i ? ',' : '') + m + '}';
  }
  return out + ']';
}

function wantsFeatureMeta(o: MetadataOptions): boolean {
  return o.names || o.dataTypes || o.effectiveTimes || o.servingStatus || o.descriptions || o.tags;
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

function sloInfo(ctx: RequestContext, storeSeconds: number): string {
  const server = seconds(ctx.started);
  return JSON.stringify({ sloEligible: true, sloServerTimeSeconds: server, serverTimeSeconds: server, storeMaxLatency: storeSeconds });
}

export async function tectonGetFeatures(s: ServerState, ctx: RequestContext): Promise<Reply> {
  const params = paramsOf(ctx.body);
  const service = serviceOf(s, params, ctx);
  const options = metadataOptionsOf(params);
  checkUnusedFields(params);
  const keys = joinKeysOf(service, params);
  const request = requestFieldsOf(service, params);
  const plan = service.plan!;
  const { rows, seconds: storeSeconds } = await s.reader.read(ctx.endpoint, plan, [keys], ctx.now);
  const v = vectorOf(plan, rows[0], options.effectiveTimes, request);
  const features = v.features.join(',');
  s.featureLog?.record(plan, ctx.now, [keys], [request], rows, [features]);
  const metadata: string[] = [];
  if (wantsFeatureMeta(options)) {
    const time = (i: number) => {
      const t = timeOf(plan, v, i);
      return t === 'null' ? undefined : t;
    };
    metadata.push(metaFeatures(service, options, time, (i) => statusOf(plan, v, i)));
  }
  if (options.sloInfo) metadata.push(`"sloInfo":${sloInfo(ctx, storeSeconds)}`);
  const body = `{"result":{"features":[${features}]}${metadata.length ? `,"metadata":{${metadata.join(',')}}` : ''}}`;
  return { body };
}

/** Requests per get-features-batch call (Tecton's clients send micro-batches of up to 10). */
export const MAX_BATCH = 1000;

export async function tectonGetFeaturesBatch(s: ServerState, ctx: RequestContext): Promise<Reply> {
  const params = paramsOf(ctx.body);
  const service = serviceOf(s, params, ctx);
  const options = metadataOptionsOf(params);
  checkUnusedFields(params);
  const list = field(params, 'request_data', 'requestData');
  if (!Array.isArray(list)) throw badRequest(`'request_data' must be a list of {"join_key_map": {...}}, not ${jsonTypeOf(list ?? null)}.`);
  if (list.length === 0) throw badRequest("'request_data' is empty; send at least one {\"join_key_map\": {...}}.");
  if (list.length > MAX_BATCH) throw badRequest(`'request_data' holds ${list.length} entries; send at most ${MAX_BATCH} per request.`);
  const keys = list.map((row, i) => joinKeysOf(service, row, i));
  const requests = list.map((row, i) => requestFieldsOf(service, row, i));
  const plan = service.plan!;
  const read = await s.reader.read(ctx.endpoint, plan, keys, ctx.now);
  const vectors = read.rows.map((served, i) => vectorOf(plan, served, options.effectiveTimes, requests[i]));
  const features = vectors.map((v) => v.features.join(','));
  s.featureLog?.record(plan, ctx.now, keys, requests, read.rows, features);
  const metadata: string[] = [];
  if (wantsFeatureMeta(options)) {
    // per feature, one status and one effective time per row, in request order
    const column = (pick: (v: Vector) => string) => `[${vectors.map(pick).join(',')}]`;
    metadata.push(metaFeatures(service, options, (i) => column((v) => timeOf(plan, v, i)), (i) => column((v) => statusOf(plan, v, i))));
  }
  if (options.sloInfo) {
    const slo = sloInfo(ctx, read.seconds);
    metadata.push(`"sloInfo":[${vectors.map(() => slo).join(',')}]`, `"batchSloInfo":${slo}`);
  }
  const result = features.map((f) => `{"features":[${f}]}`).join(',');
  return { body: `{"result":[${result}]${metadata.length ? `,"metadata":{${metadata.join(',')}}` : ''}}` };
}

function serviceMetadata(service: CatalogService): Record<string, unknown> {
  return {
    inputJoinKeys: service.joinKeys.map((k) => ({ name: k.name, dataType: dataTypeJson(k.type) })),
    inputRequestContextKeys: (service.plan?.requestFields ?? []).map((f) => ({ name: f.name, dataType: dataTypeJson(f.type) })),
    featureValues: service.features.map((f) => {
      const m: Record<string, unknown> = { name: f.name, dataType: dataTypeJson(f.type) };
      if (f.description) m.description = f.description;
      if (f.tags) m.tags = f.tags;
      if (f.aggregation) m.aggregation = { function: f.aggregation.function, window: f.aggregation.window, inputColumn: f.aggregation.column, ...(f.aggregation.n !== undefined ? { n: f.aggregation.n } : {}) };
      return m;
    }),
  };
}

export async function tectonMetadata(s: ServerState, ctx: RequestContext): Promise<Reply> {
  const params = paramsOf(ctx.body);
  const service = serviceOf(s, params, ctx);
  return { body: JSON.stringify(serviceMetadata(service)) };
}

/** GET /api/v1/feature-services: every service this key may read, with its features and types. */
export async function featureServicesList(s: ServerState, ctx: RequestContext): Promise<Reply> {
  const services = [...s.catalog.services.values()]
    .filter((svc) => mayRead(ctx.principal, svc.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((svc) => ({
      name: svc.name,
      description: svc.description,
      online: svc.online,
      ...(svc.unavailable ? { unavailable: svc.unavailable } : {}),
      ...serviceMetadata(svc),
    }));
  return { body: JSON.stringify({ workspaceName: s.catalog.projectName, featureServices: services }) };
}
