/** The loaded, validated project: plain data, no I/O after loading. */
import type { ExprType, SelectItem } from '../expressions/tree.js';
import type { AggregateSpec } from '../plans/aggregate.js';

export type WarehouseType = 'duckdb' | 'bigquery' | 'snowflake' | 'postgres';
export type Materialization = 'table' | 'incremental' | 'view' | 'aggregate';

export interface OnlineStoreConfig {
  type: 'sqlite' | 'redis';
  /** sqlite: absolute file path. */
  path?: string;
  /** redis: connection URL (may hold a password; never printed as is). */
  url?: string;
  cluster?: boolean;
}

/** serve: of a profile output; each key is the default of the `fsql serve` flag of the same name. */
export interface ServeConfig {
  auth: boolean;
  host?: string;
  port?: number;
  workers?: number;
  /** durations as written ('1s'), checked where the flag's value is */
  store_timeout?: string;
  cache_ttl?: string;
  cache_size?: number;
  /** absolute paths (relative ones resolved against the project folder) */
  tls_cert?: string;
  tls_key?: string;
  access_log?: string;
}

export interface Target {
  name: string;
  type: WarehouseType;
  /** schema (DuckDB, Snowflake) or dataset (BigQuery) */
  schema: string;
  /** database (DuckDB catalog, Snowflake database) or GCP project (BigQuery) */
  database?: string;
  threads: number;
  /** Every key of the output, env_var() rendered, for the adapter to read. */
  settings: Record<string, unknown>;
  onlineStore: OnlineStoreConfig;
  serve: ServeConfig;
  profileFile: string;
}

export interface Freshness {
  warnAfterSeconds?: number;
  errorAfterSeconds?: number;
}

/** A `monitors:` block as written: only the keys it sets; null turns a check off (project/monitors.ts). */
export interface MonitorConfig {
  nullFractionMax?: number | null;
  psiMax?: number | null;
  meanShiftMaxSigma?: number | null;
  /** strings: the change of the approximate distinct count, as a fraction of the baseline's */
  distinctChangeMax?: number | null;
  baselineSeconds?: number;
}

export interface SourceTable {
  source: string;
  name: string;
  identifier: string;
  schema?: string;
  database?: string;
  /** DuckDB only: absolute path or glob of csv/parquet files */
  path?: string;
  timestamp?: string;
  /** dbt's loaded_at_field: the column freshness measures (else `timestamp`) */
  loadedAtField?: string;
  freshness?: Freshness;
  description: string;
  file: string;
  line?: number;
}

export interface Entity {
  name: string;
  joinKeys: string[];
  description: string;
  file: string;
  line?: number;
}

export interface ColumnTest {
  name: string;
  args: Record<string, unknown>;
}

export interface ColumnDoc {
  name: string;
  description: string;
  tags: string[];
  tests: ColumnTest[];
  monitors?: MonitorConfig;
}

export interface ViewConfig {
  entities: string[];
  timestamp: string;
  createdTimestamp?: string;
  ttlSeconds?: number;
  materialized: Materialization;
  lookbackSeconds: number;
  online: boolean;
  description: string;
  owner: string;
  tags: string[];
  /** materialized='aggregate': the tiling and the aggregate features (SPEC section 9) */
  aggregate?: AggregateSpec;
  /** dbt-bigquery `partition_by` ({field, granularity}); null: `partition_by=none`; undefined: the warehouse's default */
  partitionBy?: PartitionBy | null;
  /** dbt `cluster_by`; undefined: the warehouse's default */
  clusterBy?: string[];
  /** dbt-style freshness of the view (its sync watermark if online, else its newest row) */
  freshness?: Freshness;
}

export type PartitionGranularity = 'hour' | 'day' | 'month' | 'year';
export interface PartitionBy {
  field: string;
  granularity: PartitionGranularity;
}

export interface ViewDef {
  name: string;
  /** path relative to the project dir, as shown in messages */
  file: string;
  absPath: string;
  /** the template text */
  sql: string;
  config: ViewConfig;
  /** join keys of the view's entities, in order */
  joinKeys: string[];
  /** docs and tests from a `feature_views:` YAML entry */
  columns: ColumnDoc[];
  docFile?: string;
  /** the feature_views entry's `monitors:` */
  monitors?: MonitorConfig;
  /** `push: true` in its feature_views entry: /push accepts rows for it (SPEC section 12) */
  push?: boolean;
}

export interface ServiceFeatureRef {
  view: string;
  /** undefined: every feature of the view */
  features?: string[];
  line?: number;
}

export interface ServiceDef {
  name: string;
  description: string;
  features: ServiceFeatureRef[];
  online: boolean;
  /** `logging: {sample_rate}` (SPEC section 12): the share of requests whose answers the server logs */
  logging?: ServiceLogging;
  file: string;
  line?: number;
}

export interface ServiceLogging {
  /** from 0 (none) to 1 (every request) */
  sampleRate: number;
}

/** A request source (SPEC section 10): fields a request brings, with their types. */
export interface RequestSource {
  name: string;
  fields: { name: string; type: ExprType }[];
  description: string;
  file: string;
  line?: number;
}

/** A `materialized='on_demand'` view: expressions over request fields and stored features. */
export interface OnDemandView {
  name: string;
  file: string;
  absPath: string;
  /** request sources and feature views it reads, as config `inputs` names them */
  inputs: string[];
  /** the outputs as parsed (expressions/parser.ts), each with its line */
  items: SelectItem[];
  description: string;
  owner: string;
  tags: string[];
  /** the line of the config call */
  line: number;
}

export interface MacroFile {
  file: string;
  text: string;
}

export interface Project {
  dir: string;
  name: string;
  profileName: string;
  modelPaths: string[];
  macroPaths: string[];
  /** absolute */
  targetPath: string;
  vars: Record<string, unknown>;
  target: Target;
  sources: Map<string, SourceTable>;
  entities: Map<string, Entity>;
  views: Map<string, ViewDef>;
  services: Map<string, ServiceDef>;
  macros: MacroFile[];
  requestSources: Map<string, RequestSource>;
  onDemandViews: Map<string, OnDemandView>;
  /** fsql_project.yml's `monitors:`, the project's defaults */
  monitors?: MonitorConfig;
}

export function sourceKey(source: string, table: string): string {
  return `${source}.${table}`;
}

/** The columns that name one row of a view's table: join keys, timestamp, and created_timestamp where the view has one. */
export function rowKey(view: Pick<ViewDef, 'joinKeys' | 'config'>): string[] {
  return [...view.joinKeys, view.config.timestamp, ...(view.config.createdTimestamp ? [view.config.createdTimestamp] : [])];
}
