/** Reads the leading `{{ config(...) }}` call of a feature view's .sql file. */
import nunjucks from 'nunjucks';
import { ProjectError } from '../errors.js';
import { parseDuration, DURATION_HELP } from '../duration.js';
import { envVar, renderErrorMessage } from './env-var.js';
import type { Freshness, Materialization, PartitionBy, PartitionGranularity, ViewConfig } from './types.js';
import { aggCall, defaultTtl, readAggregations } from './aggregate-config.js';

const CONFIG_KEYS = ['entities', 'timestamp', 'created_timestamp', 'ttl', 'materialized', 'lookback', 'online', 'description', 'owner', 'tags', 'partition_by', 'cluster_by', 'freshness', 'tile', 'sync_horizon', 'aggregations'];
const GRANULARITIES: PartitionGranularity[] = ['hour', 'day', 'month', 'year'];
const MATERIALIZATIONS: Materialization[] = ['table', 'incremental', 'view', 'aggregate'];
const env = new nunjucks.Environment(null, { autoescape: false });

/** Finds the config call; returns its text, the line it starts on and the template with it removed. */
export function splitConfig(file: string, text: string): { call: string; line: number; body: string } {
  const start = /\{\{-?\s*config\s*\(/.exec(text);
  if (!start) {
    throw new ProjectError(file, "a feature view starts with {{ config(entities=[...], timestamp='...') }}; none was found. Add it before the SELECT.", 1);
  }
  const before = text.slice(0, start.index);
  if (before.replace(/\{#[\s\S]*?#\}/g, '').replace(/--[^\n]*/g, '').trim() !== '') {
    throw new ProjectError(file, 'the config() call must come first, before the SELECT.', lineAt(text, start.index));
  }
  const end = findClose(text, start.index + start[0].length);
  if (end < 0) throw new ProjectError(file, "config( is never closed; end it with ') }}'.", lineAt(text, start.index));
  const close = /^\s*-?\}\}/.exec(text.slice(end + 1));
  if (!close) throw new ProjectError(file, "config(...) must be followed by '}}'.", lineAt(text, end));
  const stop = end + 1 + close[0].length;
  // Keep the line count so compiled lines match the file's lines.
  const blank = text.slice(0, stop).replace(/[^\n]/g, '');
  return { call: text.slice(start.index, stop), line: lineAt(text, start.index), body: blank + text.slice(stop) };
}

/** The keyword arguments of a view's `{{ config(...) }}` call, with var(), env_var() and agg() available. */
export function readConfigCall(file: string, call: string, line: number, vars: Record<string, unknown>): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  try {
    env.renderString(call, {
      config: (kw: Record<string, unknown>) => {
        raw = { ...kw };
        return '';
      },
      var: (name: string, fallback?: unknown) => (name in vars ? vars[name] : fallback),
      env_var: envVar,
      agg: (...args: unknown[]) => aggCall(args),
    });
  } catch (e) {
    throw new ProjectError(file, `cannot read config(): ${renderErrorMessage(e)}. Write it as config(key=value, ...).`, line);
  }
  delete raw.__keywords;
  return raw;
}

export function parseViewConfig(file: string, call: string, line: number, vars: Record<string, unknown>): ViewConfig {
  const raw = readConfigCall(file, call, line, vars);
  const err = (detail: string) => new ProjectError(file, `config ${detail}`, line);
  for (const key of Object.keys(raw)) {
    if (!CONFIG_KEYS.includes(key)) throw err(`has unknown key '${key}'. Allowed keys: ${CONFIG_KEYS.join(', ')}.`);
  }
  const strings = (key: string): string[] => {
    const v = raw[key];
    if (v === undefined) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw err(`'${key}' must be a list of names, such as ['user'].`);
    return list as string[];
  };
  const text = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw err(`'${key}' must be a string.`);
    return v;
  };
  const duration = (key: string): number | undefined => {
    if (raw[key] === undefined || raw[key] === null) return undefined;
    const s = parseDuration(raw[key]);
    if (s === undefined) throw err(`'${key}' must be ${DURATION_HELP}, not '${String(raw[key])}'.`);
    return s;
  };
  const entities = strings('entities');
  if (entities.length === 0) throw err("needs entities=['...']: the entities whose join keys identify a row.");
  const timestamp = text('timestamp');
  if (!timestamp) throw err("needs timestamp='column': the output column with the time each row's values became true.");
  const materialized = (text('materialized') ?? 'table') as Materialization;
  if (!MATERIALIZATIONS.includes(materialized)) throw err(`'materialized' must be one of ${MATERIALIZATIONS.join(', ')}, not '${materialized}'.`);
  const online = raw.online === undefined ? true : raw.online;
  if (typeof online !== 'boolean') throw err("'online' must be true or false.");
  let ttl = duration('ttl');
  const aggregate = aggregateOf(file, call, line, materialized, raw);
  if (aggregate && ttl === undefined) ttl = defaultTtl(aggregate);
  if (materialized === 'aggregate' && raw.created_timestamp !== undefined) throw err("'created_timestamp' does not apply to an aggregate view: its rows are events, each counted once. Remove it.");
  return {
    entities,
    timestamp,
    createdTimestamp: text('created_timestamp'),
    ttlSeconds: ttl === 0 ? undefined : ttl,
    materialized,
    lookbackSeconds: duration('lookback') ?? 0,
    online,
    description: text('description') ?? '',
    owner: text('owner') ?? '',
    tags: strings('tags'),
    ...(raw.partition_by === undefined ? {} : { partitionBy: partitionBy(raw.partition_by, timestamp, err) }),
    ...(raw.cluster_by === undefined ? {} : { clusterBy: strings('cluster_by') }),
    ...(raw.freshness === undefined ? {} : { freshness: freshness(raw.freshness, err) }),
    ...(aggregate ? { aggregate } : {}),
  };
}

/** `aggregations` and `tile`, only with materialized='aggregate'; errors name the line of the agg() at fault. */
function aggregateOf(file: string, call: string, line: number, materialized: Materialization, raw: Record<string, unknown>): ViewConfig['aggregate'] {
  if (materialized !== 'aggregate') {
    const stray = ['aggregations', 'tile', 'sync_horizon'].find((k) => raw[k] !== undefined);
    if (stray) throw new ProjectError(file, `config '${stray}' is for aggregate views; add materialized='aggregate' or remove it.`, line);
    return undefined;
  }
  // An aggregate view may take its aggregations from a feature_views YAML entry instead (load.ts).
  if (raw.aggregations === undefined) {
    const stray = ['tile', 'sync_horizon'].find((k) => raw[k] !== undefined);
    if (stray) throw new ProjectError(file, `config '${stray}' goes with the aggregations: give both in config(), or both (${stray}:, aggregations:) under the view's feature_views entry.`, line);
    return undefined;
  }
  const calls = [...call.matchAll(/\bagg\s*\(/g)].map((m) => line + lineAt(call, m.index ?? 0) - 1);
  return readAggregations(raw.aggregations, raw.tile, (i, detail) => new ProjectError(file, `config aggregations: ${detail}`, i === undefined ? line : (calls[i] ?? line)), raw.sync_horizon);
}

/** dbt's freshness={'warn_after': '12h', 'error_after': '1d'} (either may be left out). */
function freshness(v: unknown, err: (detail: string) => ProjectError): Freshness {
  const help = "'freshness' must be {'warn_after': '12h', 'error_after': '1d'}";
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw err(`${help}.`);
  const m = v as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => k !== 'warn_after' && k !== 'error_after');
  if (unknown.length > 0) throw err(`${help}; unknown key '${unknown[0]}'.`);
  const after = (key: string) => {
    if (m[key] === undefined || m[key] === null) return undefined;
    const s = parseDuration(m[key]);
    if (s === undefined) throw err(`freshness ${key} must be ${DURATION_HELP}, not '${String(m[key])}'.`);
    return s;
  };
  return { warnAfterSeconds: after('warn_after'), errorAfterSeconds: after('error_after') };
}

/** dbt-bigquery's partition_by: {field, data_type, granularity}, or 'none'; the field defaults to the view's timestamp. */
function partitionBy(v: unknown, timestamp: string, err: (detail: string) => ProjectError): PartitionBy | null {
  if (v === null || v === 'none') return null;
  const help = "'partition_by' must be {'field': 'event_ts', 'data_type': 'timestamp', 'granularity': 'day'} or 'none'";
  if (typeof v !== 'object' || Array.isArray(v)) throw err(`${help}.`);
  const m = v as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !['field', 'data_type', 'granularity'].includes(k));
  if (unknown.length > 0) throw err(`${help}; unknown key '${unknown[0]}'.`);
  const granularity = (m.granularity ?? 'day') as PartitionGranularity;
  if (!GRANULARITIES.includes(granularity)) throw err(`partition_by granularity must be one of ${GRANULARITIES.join(', ')}, not '${String(m.granularity)}'.`);
  if (m.data_type !== undefined && m.data_type !== 'timestamp') throw err(`partition_by data_type must be 'timestamp' (feature tables partition on a time), not '${String(m.data_type)}'.`);
  if (m.field !== undefined && typeof m.field !== 'string') throw err(`${help}.`);
  return { field: (m.field as string | undefined) ?? timestamp, granularity };
}

function findClose(text: string, from: number): number {
  let depth = 1;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return c === ')' ? i : -1;
    }
  }
  return -1;
}

export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
