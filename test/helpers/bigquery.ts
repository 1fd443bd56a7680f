/** BigQuery test set-up: a fake server on loopback, a service-account key for it, adapters and profiles pointing at it. */
import { STATS_COLUMNS } from '../../src/dialects/feature-stats.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Target } from '../../src/project/types.js';
import { BigQueryWarehouse, type BigQueryOpenOptions } from '../../src/warehouse/bigquery.js';
import { FakeBigQuery, type Field } from '../fakes/bigquery-server.js';
import { copyExample, FSQL_BIN } from './project.js';

export const SA_EMAIL = 'fsql-runner@acme-ml.iam.gserviceaccount.com';

export interface BigQueryFixture {
  fake: FakeBigQuery;
  dir: string;
  /** the service account's JSON key (token_uri points at the fake) */
  key: Record<string, string>;
  keyfile: string;
}

/** A fake server with project acme-ml, dataset features (US) and a service account with a key file. */
export async function bigQueryFixture(): Promise<BigQueryFixture> {
  const fake = await new FakeBigQuery().start();
  fake.dataset('acme-ml', 'features', 'US');
  // the applied state (offline/state.ts) that run and build record after a clean run
  fake.onQuery(/^create table if not exists `acme-ml\.features\.fsql_state`/, { creates: { table: 'acme-ml.features.fsql_state', schema: [{ name: 'applied_at', type: 'TIMESTAMP' }, { name: 'state', type: 'STRING' }] } });
  fake.onQuery(/^insert into `acme-ml\.features\.fsql_state`/, {});
  fake.onQuery(/^select `state` from `acme-ml\.features\.fsql_state`/, { result: { schema: [{ name: 'state', type: 'STRING' }], rows: [] } });
  // the feature statistics (offline/feature-stats.ts) run records after each view's build
  const statsSchema = STATS_COLUMNS.map((name) => ({ name, type: /^(view_name|feature|run_id)$/.test(name) ? 'STRING' : /^(range_start|range_end|recorded_at)$/.test(name) ? 'TIMESTAMP' : /^(row_count|approx_distinct)$/.test(name) ? 'INT64' : 'FLOAT64' }));
  fake.onQuery(/^create table if not exists `acme-ml\.features\.fsql_feature_stats`/, { creates: { table: 'acme-ml.features.fsql_feature_stats', schema: statsSchema } });
  fake.onQuery(/^insert into `acme-ml\.features\.fsql_feature_stats`/, {});
  const dir = mkdtempSync(join(tmpdir(), 'fsql-bq-'));
  const key = fake.serviceAccount(SA_EMAIL);
  const keyfile = join(dir, 'key.json');
  writeFileSync(keyfile, JSON.stringify(key, null, 2));
  return { fake, dir, key, keyfile };
}

/** A bigquery Target as profiles.yml would give it, pointing at the fake. */
export function targetFor(fx: BigQueryFixture, settings: Record<string, unknown> = {}): Target {
  const s: Record<string, unknown> = {
    type: 'bigquery',
    method: 'service-account',
    project: 'acme-ml',
    dataset: 'features',
    keyfile: fx.keyfile,
    location: 'US',
    api_endpoint: fx.fake.url,
    ...settings,
  };
  for (const [k, v] of Object.entries(s)) if (v === undefined) delete s[k];
  return {
    name: 'prod',
    type: 'bigquery',
    schema: String(s.dataset),
    database: String(s.project),
    threads: 1,
    settings: s,
    onlineStore: { type: 'sqlite', path: join(fx.dir, 'online.sqlite') },
    serve: { auth: false },
    profileFile: 'profiles.yml',
  };
}

export function openFor(fx: BigQueryFixture, settings: Record<string, unknown> = {}, opts: Partial<BigQueryOpenOptions> = {}): Promise<BigQueryWarehouse> {
  return BigQueryWarehouse.open(targetFor(fx, settings), { projectName: 'fraud_features', projectDir: fx.dir, retryBaseMs: 5, pollMs: 5, ...opts });
}

/** `fsql` as a child process that does not block this one, so the in-process fake keeps answering. */
export function fsqlAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FSQL_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The example project (copied) with its prod output pointing at the fake. */
export function exampleOnFake(fx: BigQueryFixture, prod: Record<string, unknown> = {}): string {
  const dir = copyExample({ handWrittenWindows: true });
  const output: Record<string, unknown> = {
    type: 'bigquery',
    method: 'service-account',
    project: 'acme-ml',
    dataset: 'features',
    keyfile: fx.keyfile,
    location: 'US',
    threads: 2,
    api_endpoint: fx.fake.url,
    online_store: { type: 'sqlite', path: 'target/online.sqlite' },
    ...prod,
  };
  for (const [k, v] of Object.entries(output)) if (v === undefined) delete output[k];
  writeFileSync(join(dir, 'profiles.yml'), stringify({ fraud_features: { target: 'prod', outputs: { prod: output } } }));
  return dir;
}

/** `run --dry-run` output as { view: statements }, each statement without its closing `;`. */
export function dryRunBlocks(text: string): Map<string, { kind: string; sql: string }> {
  const out = new Map<string, { kind: string; sql: string }>();
  for (const block of text.split(/^(?=-- \w+: (?:table|incremental|view|aggregate)\b)/m)) {
    const header = /^-- (\w+): (\w+)[^\n]*\n/.exec(block);
    if (!header) continue;
    out.set(header[1], { kind: header[2], sql: block.slice(header[0].length).replace(/;\s*$/, '') });
  }
  return out;
}

/** Offline table schemas of the example project's views, as BigQuery would hold them. */
export const STATS: Field[] = [
  { name: 'user_id', type: 'STRING' },
  { name: 'event_ts', type: 'TIMESTAMP' },
  ...['1h', '1d', '7d'].flatMap((w): Field[] => [
    { name: `txn_count_${w}`, type: 'INTEGER' },
    { name: `spend_${w}`, type: 'FLOAT' },
  ]),
  { name: 'avg_amount_7d', type: 'FLOAT' },
  { name: 'max_amount_7d', type: 'FLOAT' },
  { name: 'large_txn_count_1d', type: 'INTEGER' },
];
export const RISK: Field[] = [
  { name: 'merchant_id', type: 'STRING' },
  { name: 'feature_ts', type: 'TIMESTAMP' },
  { name: 'txn_count_30d', type: 'INTEGER' },
  { name: 'volume_30d', type: 'FLOAT' },
  { name: 'chargeback_rate', type: 'FLOAT' },
  { name: 'risk_score', type: 'FLOAT' },
];
export const PAIR: Field[] = [
  { name: 'user_id', type: 'STRING' },
  { name: 'merchant_id', type: 'STRING' },
  { name: 'event_ts', type: 'TIMESTAMP' },
  { name: 'pair_txn_count_30d', type: 'INTEGER' },
  { name: 'pair_spend_30d', type: 'FLOAT' },
];

