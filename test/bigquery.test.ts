/**
 * The BigQuery adapter with the real @google-cloud/bigquery SDK against a fake BigQuery on
 * loopback (test/fakes/bigquery-server.ts): what each call sends, paging, types, retries, errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProjectError, WarehouseError } from '../src/errors.js';
import { redact } from '../src/secrets.js';
import { Timestamp, type Row } from '../src/values.js';
import type { BigQueryWarehouse } from '../src/warehouse/bigquery.js';
import type { Field } from './fakes/bigquery-server.js';
import { bigQueryFixture, openFor, SA_EMAIL, type BigQueryFixture } from './helpers/bigquery.js';

let fx: BigQueryFixture;
before(async () => {
  fx = await bigQueryFixture();
});
after(async () => {
  await fx.fake.close();
});

/** Requests of one route made after `from` (an index into fake.requests). */
function since(from: number, route?: string) {
  return fx.fake.requests.slice(from).filter((r) => !route || r.route === route);
}

async function rejects(p: Promise<unknown>, pattern: RegExp, kind: Function = WarehouseError): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof kind, `expected a ${kind.name}, got ${String((caught as Error)?.stack ?? caught)}`);
  assert.match((caught as Error).message, pattern);
  return caught as Error;
}

const ALL_TYPES: Field[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'score', type: 'FLOAT' },
  { name: 'ratio', type: 'NUMERIC' },
  { name: 'flag', type: 'BOOLEAN' },
  { name: 'ts', type: 'TIMESTAMP' },
  { name: 'day', type: 'DATE' },
  { name: 'civil', type: 'DATETIME' },
  { name: 'name', type: 'STRING' },
  { name: 'counts', type: 'INTEGER', mode: 'REPEATED' },
  { name: 'info', type: 'RECORD', fields: [{ name: 'n', type: 'INTEGER' }, { name: 's', type: 'STRING' }] },
];

test('a query is one labelled job with the profile settings, and its rows come back typed: INT64 exact, timestamps to the microsecond', async () => {
  fx.fake.onQuery(/from `acme-ml.features.all_types`/, {
    result: {
      schema: ALL_TYPES,
      rows: [
        [9007199254740993n, 0.1, '12.5', true, 1712147696789012n, '2024-04-03', '2024-04-03T12:34:56.5', 'u_1', [1n, 9223372036854775807n], { n: 3n, s: 'x' }],
        [-9223372036854775808n, NaN, null, false, -1n, null, null, '', [], null],
        [null, Infinity, null, null, null, null, null, null, null, null],
      ],
    },
  });
  const wh = await openFor(fx, { priority: 'batch', maximum_bytes_billed: 1000000000, job_execution_timeout_seconds: 600 });
  const from = fx.fake.requests.length;
  const rows = await wh.query('select * from `acme-ml.features.all_types`', { label: 'models/user/user_stats.sql' });

  assert.deepEqual(rows[0], {
    id: 9007199254740993n,
    score: 0.1,
    ratio: 12.5,
    flag: true,
    ts: new Timestamp(1712147696789012n),
    day: Timestamp.parse('2024-04-03')!,
    civil: Timestamp.parse('2024-04-03T12:34:56.5')!,
    name: 'u_1',
    counts: [1n, 9223372036854775807n],
    info: '{"n":"3","s":"x"}',
  } satisfies Row);
  assert.equal(rows[1].id, -9223372036854775808n);
  assert.ok(Number.isNaN(rows[1].score));
  assert.deepEqual(rows[1].ts, new Timestamp(-1n));
  assert.deepEqual([rows[1].counts, rows[1].info, rows[1].ratio], [[], null, null]);
  assert.deepEqual(rows[2], { id: null, score: Infinity, ratio: null, flag: null, ts: null, day: null, civil: null, name: null, counts: [], info: null });

  const [insert] = since(from, 'jobs.insert');
  const body = insert.body as { jobReference: Record<string, string>; configuration: Record<string, unknown> };
  assert.match(body.jobReference.jobId, /^fsql_user_stats_[0-9a-f]{32}$/);
  assert.deepEqual({ ...body.jobReference, jobId: 'x' }, { projectId: 'acme-ml', jobId: 'x', location: 'US' });
  const labels = body.configuration.labels as Record<string, string>;
  assert.match(labels.fsql_invocation, /^[0-9a-f-]{36}$/);
  assert.deepEqual(body.configuration, {
    query: { query: 'select * from `acme-ml.features.all_types`', useLegacySql: false, priority: 'BATCH', maximumBytesBilled: '1000000000' },
    labels: { fsql_project: 'fraud_features', fsql_target: 'prod', fsql_invocation: labels.fsql_invocation, fsql_view: 'user_stats' },
    jobTimeoutMs: '600000',
  });
  assert.equal(insert.principal, SA_EMAIL);
  // polled with jobs.get until DONE, then read with useInt64Timestamp (float seconds would lose the micros)
  assert.deepEqual(
    since(from).map((r) => r.route),
    ['jobs.insert', 'jobs.get', 'jobs.getQueryResults'],
  );
  const results = since(from, 'jobs.getQueryResults')[0];
  assert.equal(results.query.get('formatOptions.useInt64Timestamp'), 'true');
  assert.equal(results.query.get('location'), 'US');
});

test('results stream page by page with page tokens, one page ahead at most', async () => {
  const rows = Array.from({ length: 25 }, (_, i) => [BigInt(i), `u_${i}`]);
  fx.fake.onQuery(/from paged/, { result: { schema: [{ name: 'n', type: 'INTEGER' }, { name: 'u', type: 'STRING' }], rows } });
  const wh = await openFor(fx);
  const it = wh.stream('select n, u from paged', { chunkRows: 10 })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.deepEqual((first.value as Row[]).map((r) => r.n), [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
  const job = [...fx.fake.jobs.values()].find((j) => j.configuration.query?.query === 'select n, u from paged')!;
  assert.ok(job.pagesServed.length <= 2, `only the page in hand and the next one are fetched, not ${job.pagesServed.length}`);
  const sizes = [(first.value as Row[]).length];
  const seen = [...(first.value as Row[])];
  for (let r = await it.next(); !r.done; r = await it.next()) {
    sizes.push(r.value.length);
    seen.push(...r.value);
  }
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(seen.map((r) => r.u), rows.map((r) => r[1]));
  assert.equal(job.pagesServed.length, 3);
  assert.equal(job.pagesServed[0].pageToken, undefined);
  assert.ok(job.pagesServed[1].pageToken && job.pagesServed[2].pageToken && job.pagesServed[1].pageToken !== job.pagesServed[2].pageToken);
  const asked = fx.fake.requests.filter((r) => r.route === 'jobs.getQueryResults' && r.path.endsWith(job.id));
  assert.deepEqual(asked.map((r) => r.query.get('maxResults')), ['10', '10', '10']);

  // without chunkRows the server sizes pages; query() reads them all
  fx.fake.pageSize = 7;
  try {
    const all = await wh.query('select n, u from paged');
    assert.equal(all.length, 25);
    const job2 = [...fx.fake.jobs.values()].filter((j) => j.configuration.query?.query === 'select n, u from paged').at(-1)!;
    assert.deepEqual(job2.pagesServed.map((p) => p.rows), [7, 7, 7, 4]);
  } finally {
    fx.fake.pageSize = 1000;
  }
});

test('execute: one job per statement; an atomic list is one transaction script; a single MERGE runs alone', async () => {
  const wh = await openFor(fx);
  let from = fx.fake.requests.length;
  await wh.execute('create or replace table `acme-ml.features.t1` as\nselect 1 as x;', { label: 'models/t1.sql' });
  assert.deepEqual(fx.fake.queries().slice(-1), ['create or replace table `acme-ml.features.t1` as\nselect 1 as x']);
  assert.ok(fx.fake.hasTable('acme-ml.features.t1'));

  from = fx.fake.requests.length;
  const del = 'delete from `acme-ml.features.t1` where x = 1';
  const ins = 'insert into `acme-ml.features.t1` select 2 as x';
  await wh.execute([del, ins], { atomic: true, label: 'models/t1.sql' });
  assert.deepEqual(since(from, 'jobs.insert').length, 1);
  assert.equal(fx.fake.queries().at(-1), `begin transaction;\n${del};\n${ins};\ncommit;`);

  from = fx.fake.requests.length;
  const merge = 'merge into `acme-ml.features.t1` as fsql_t using (select 3 as x) as fsql_s on false when not matched then insert row';
  await wh.execute([merge], { atomic: true });
  assert.equal(fx.fake.queries().at(-1), merge);

  from = fx.fake.requests.length;
  await wh.execute([del, ins], { label: 'models/t1.sql' });
  assert.deepEqual(fx.fake.queries().slice(-2), [del, ins]);
});

test('describe reads tables.get: columns with common types, undefined when the table does not exist', async () => {
  fx.fake.table('acme-ml.features.described', ALL_TYPES);
  const wh = await openFor(fx);
  assert.deepEqual(await wh.describe({ database: 'acme-ml', schema: 'features', name: 'described' }), [
    { name: 'id', type: { type: 'int64' } },
    { name: 'score', type: { type: 'float64' } },
    { name: 'ratio', type: { type: 'float64' } },
    { name: 'flag', type: { type: 'boolean' } },
    { name: 'ts', type: { type: 'timestamp' } },
    { name: 'day', type: { type: 'timestamp' } },
    { name: 'civil', type: { type: 'timestamp' } },
    { name: 'name', type: { type: 'string' } },
    { name: 'counts', type: { type: 'array', elementType: { type: 'int64' } } },
    { name: 'info', type: { type: 'string' } },
  ]);
  assert.equal(await wh.describe({ name: 'no_such_table' }), undefined);
  assert.equal(await wh.describe({ schema: 'no_such_dataset', name: 'x' }), undefined);
  fx.fake.fail('tables.get', { reason: 'accessDenied', message: 'Access Denied: Table acme-ml:features.described: Permission bigquery.tables.get denied' });
  await rejects(wh.describe({ name: 'described' }), /permission denied for fsql-runner@acme-ml\.iam\.gserviceaccount\.com: Access Denied: Table acme-ml:features\.described.*roles\/bigquery\.dataViewer/);
});

test('loadFile uploads the file with a labelled load job into a table that expires', async () => {
  const wh = await openFor(fx);
  const csv = join(fx.dir, 'events.csv');
  writeFileSync(csv, 'user_id,event_timestamp,amount\nu_1,2024-04-01 10:00:00,12.5\nu_2,2024-04-02 11:00:00,3\n');
  const from = fx.fake.requests.length;
  await wh.loadFile(csv, { database: 'acme-ml', schema: 'features', name: 'fsql_events_x' }, { label: 'train fraud_detection' });
  const [upload] = since(from, 'upload');
  assert.equal(upload.query.get('uploadType'), 'multipart');
  const job = [...fx.fake.jobs.values()].find((j) => j.id === (upload.body as { jobReference: { jobId: string } }).jobReference.jobId)!;
  assert.equal(job.upload?.toString('utf8'), 'user_id,event_timestamp,amount\nu_1,2024-04-01 10:00:00,12.5\nu_2,2024-04-02 11:00:00,3\n');
  const load = job.configuration.load as Record<string, unknown> & { destinationTableProperties: { expirationTime: string } };
  const expires = Date.parse(load.destinationTableProperties.expirationTime) - Date.now();
  assert.ok(expires > 23.9 * 3600e3 && expires <= 24 * 3600e3, `expires in ${expires} ms`);
  assert.deepEqual({ ...load, destinationTableProperties: undefined }, {
    destinationTable: { projectId: 'acme-ml', datasetId: 'features', tableId: 'fsql_events_x' },
    sourceFormat: 'CSV',
    autodetect: true,
    skipLeadingRows: 1,
    allowQuotedNewlines: true,
    createDisposition: 'CREATE_IF_NEEDED',
    writeDisposition: 'WRITE_TRUNCATE',
    destinationTableProperties: undefined,
  });
  assert.equal(job.configuration.labels?.fsql_view, 'train_fraud_detection');
  assert.ok(since(from, 'jobs.get').length >= 1, 'waits for the load job');
  assert.deepEqual(await wh.describe({ name: 'fsql_events_x' }), [
    { name: 'user_id', type: { type: 'string' } },
    { name: 'event_timestamp', type: { type: 'timestamp' } },
    { name: 'amount', type: { type: 'float64' } },
  ]);

  const parquet = join(fx.dir, 'events.parquet');
  writeFileSync(parquet, Buffer.from([0x50, 0x41, 0x52, 0x31, 0, 1, 2, 0xff, 0x50, 0x41, 0x52, 0x31]));
  await wh.loadFile(parquet, { name: 'fsql_events_p' });
  const pjob = [...fx.fake.jobs.values()].at(-1)!;
  assert.equal((pjob.configuration.load as { sourceFormat: string }).sourceFormat, 'PARQUET');
  assert.deepEqual([...pjob.upload!], [0x50, 0x41, 0x52, 0x31, 0, 1, 2, 0xff, 0x50, 0x41, 0x52, 0x31], 'binary bytes arrive unchanged');

  await rejects(wh.loadFile(join(fx.dir, 'events.json'), { name: 'x' }), /only \.csv and \.parquet/);
  await rejects(wh.loadFile(csv, { schema: 'scratch', name: 'x' }), /dataset acme-ml:scratch does not exist/);
});

test('validate is a dry run that reports the bytes it would scan; a bad view names its file and line', async () => {
  fx.fake.onQuery(/from `raw.transactions`/, { bytes: 123456789n });
  fx.fake.onQuery(/form `raw/, { error: { reason: 'invalidQuery', message: 'Syntax error: Expected end of input but got identifier "form" at [3:1]' } });
  const wh = await openFor(fx);
  const from = fx.fake.requests.length;
  const v = await wh.validate('select user_id\n  , ts\nfrom `raw.transactions`', { label: 'models/user/user_stats.sql' });
  assert.deepEqual(v, { method: 'BigQuery dry run', bytesProcessed: 123456789n });
  const [insert] = since(from, 'jobs.insert');
  assert.equal((insert.body as { configuration: { dryRun: boolean } }).configuration.dryRun, true);
  assert.deepEqual(since(from).map((r) => r.route), ['jobs.insert'], 'a dry run creates no job to wait for');
  await rejects(
    wh.validate('select user_id\n  , ts\nform `raw.transactions`', { label: 'models/user/user_stats.sql' }),
    /^models\/user\/user_stats\.sql: BigQuery rejected the SQL: Syntax error: .* at \[3:1\]\.\n {2}line 3 of the statement: form `raw\.transactions`/,
  );
});

test('transient errors are retried with growing backoff, job_retries times, then reported', async () => {
  fx.fake.onQuery(/select 'retry'/, { result: { schema: [{ name: 'x', type: 'STRING' }], rows: [['ok']] } });
  const wh = await openFor(fx, { job_retries: 2 }, { retryBaseMs: 40 });

  // jobs.insert answered 503 twice: the same job id is sent again, after 40 ms then 80 ms
  let from = fx.fake.requests.length;
  fx.fake.fail('jobs.insert', { reason: 'backendError', message: 'Backend error. Job aborted.' }, { times: 2 });
  const t0 = Date.now();
  assert.deepEqual(await wh.query("select 'retry'"), [{ x: 'ok' }]);
  assert.ok(Date.now() - t0 >= 120, `backoff 40 + 80 ms, took ${Date.now() - t0} ms`);
  const ids = since(from, 'jobs.insert').map((r) => (r.body as { jobReference: { jobId: string } }).jobReference.jobId);
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 1, 'an insert that may not have arrived is resent under the same id');

  // the insert went through but its answer was lost: the retry gets `duplicate`, and fsql waits for that job
  from = fx.fake.requests.length;
  const jobsBefore = fx.fake.jobs.size;
  fx.fake.fail('jobs.insert', { status: 503, reason: 'backendError', message: 'The service is currently unavailable.' }, { afterHandling: true });
  assert.deepEqual(await wh.query("select 'retry'"), [{ x: 'ok' }]);
  assert.equal(fx.fake.jobs.size, jobsBefore + 1, 'the query ran once');
  assert.deepEqual(since(from).map((r) => r.route).slice(0, 3), ['jobs.insert', 'jobs.insert', 'jobs.get']);

  // jobs.insert slower than job_creation_timeout_seconds: given up on, sent again under the same id; the query runs once
  const impatient = await openFor(fx, { job_creation_timeout_seconds: 0.1 });
  fx.fake.onQuery(/select 'slow insert'/, { result: { schema: [{ name: 'x', type: 'INTEGER' }], rows: [[7n]] } });
  fx.fake.delay('jobs.insert', 400);
  from = fx.fake.requests.length;
  assert.deepEqual(await impatient.query("select 'slow insert'"), [{ x: 7n }]);
  const slowIds = since(from, 'jobs.insert').map((r) => (r.body as { jobReference: { jobId: string } }).jobReference.jobId);
  assert.ok(slowIds.length >= 2 && new Set(slowIds).size === 1, `resent under one id: ${slowIds.join(', ')}`);
  await new Promise((r) => setTimeout(r, 450)); // let the first, delayed insert land too
  assert.equal([...fx.fake.jobs.values()].filter((j) => j.configuration.query?.query === "select 'slow insert'").length, 1);

  // a job that ran and failed with a transient error is replaced by a new job
  fx.fake.onQuery(/select 'flaky job'/, { result: { schema: [{ name: 'x', type: 'INTEGER' }], rows: [[1n]] } });
  fx.fake.onQuery(/select 'flaky job'/, { error: { reason: 'backendError', message: 'Error encountered during execution. Retrying may solve the problem.' } }, 1);
  from = fx.fake.requests.length;
  assert.deepEqual(await wh.query("select 'flaky job'"), [{ x: 1n }]);
  const jobIds = since(from, 'jobs.insert').map((r) => (r.body as { jobReference: { jobId: string } }).jobReference.jobId);
  assert.equal(new Set(jobIds).size, 2);

  // rate limits (403 rateLimitExceeded) and a failing page are transient too
  fx.fake.fail('jobs.insert', { reason: 'rateLimitExceeded', message: 'Exceeded rate limits: too many api requests per user per method' });
  fx.fake.fail('jobs.getQueryResults', { status: 500, reason: 'internalError', message: 'Internal error encountered.' });
  assert.deepEqual(await wh.query("select 'retry'"), [{ x: 'ok' }]);

  // still failing after job_retries: reported with what to do
  fx.fake.fail('jobs.insert', { reason: 'backendError', message: 'Backend error. Job aborted.' }, { times: 3 });
  await rejects(wh.query("select 'retry'", { label: 'models/x.sql' }), /^models\/x\.sql: BigQuery failed with a transient error \(503 backendError: Backend error\. Job aborted\.\) 3 times, retrying with backoff in between\. .*job_retries: 2 in profiles\.yml/);

  // job_retries: 0 never retries
  const once = await openFor(fx, { job_retries: 0 });
  from = fx.fake.requests.length;
  fx.fake.fail('jobs.insert', { reason: 'backendError', message: 'Backend error.' });
  await rejects(once.query("select 'retry'"), /transient error .* 1 time,/);
  assert.equal(since(from, 'jobs.insert').length, 1);
});

test('errors name what to do: missing dataset, wrong location, permissions, timeouts, byte limits, network', async () => {
  await rejects(openFor(fx, { dataset: 'no_such' }), /dataset acme-ml:no_such does not exist in location US \(Not found: Dataset acme-ml:no_such\)\. Create it \(bq --location=US mk --dataset acme-ml:no_such\) or fix project:, dataset: or location: in profiles\.yml\./);

  fx.fake.dataset('acme-ml', 'eu_features', 'EU');
  await rejects(openFor(fx, { dataset: 'eu_features' }), /dataset acme-ml:eu_features is in location EU, but profiles\.yml sets location: US .*set location: EU/);

  const wh = await openFor(fx);
  fx.fake.fail('jobs.insert', { reason: 'accessDenied', message: 'Access Denied: Project acme-ml: User does not have bigquery.jobs.create permission in project acme-ml.' });
  await rejects(wh.execute('create or replace table `acme-ml.features.t2` as select 1 as x', { label: 'models/t2.sql' }), /^models\/t2\.sql: permission denied for fsql-runner@acme-ml\.iam\.gserviceaccount\.com: Access Denied: .*Grant fsql-runner@acme-ml\.iam\.gserviceaccount\.com the role roles\/bigquery\.jobUser on project acme-ml/);

  fx.fake.onQuery(/create or replace table `acme-ml.features.denied`/, { error: { reason: 'accessDenied', message: 'Access Denied: Dataset acme-ml:features: Permission bigquery.tables.create denied on dataset acme-ml:features (or it may not exist).' } });
  await rejects(wh.execute('create or replace table `acme-ml.features.denied` as select 1 as x'), /roles\/bigquery\.dataEditor on dataset acme-ml:features/);

  await rejects(wh.execute('create or replace table `acme-ml.gone.t` as select 1 as x', { label: 'models/t.sql' }), /^models\/t\.sql: dataset acme-ml:gone does not exist .*A source or ref points at it/);
  fx.fake.onQuery(/from `acme-ml.features.upstream`/, { error: { reason: 'notFound', message: 'Not found: Table acme-ml:features.upstream was not found in location US' } });
  await rejects(wh.query('select * from `acme-ml.features.upstream`'), /Not found: Table acme-ml:features\.upstream .*Build the upstream views first \(fsql run --select \+<view>\)/);

  const billed = await openFor(fx, { maximum_bytes_billed: 1000 });
  fx.fake.onQuery(/from `big`/, { error: { reason: 'bytesBilledLimitExceeded', message: 'Query exceeded limit for bytes billed: 1000. 10485760 or higher required.' } });
  await rejects(billed.query('select * from `big`'), /would bill more than maximum_bytes_billed \(1000 bytes\): Query exceeded limit for bytes billed: 1000\. .*Raise maximum_bytes_billed/);

  // the job keeps running past job_execution_timeout_seconds: fsql cancels it and says which setting
  const slow = await openFor(fx, { job_execution_timeout_seconds: 0.2 });
  fx.fake.onQuery(/select 'slow'/, { polls: Infinity, result: { schema: [], rows: [] } });
  const from = fx.fake.requests.length;
  await rejects(slow.query("select 'slow'", { label: 'models/slow.sql' }), /^models\/slow\.sql: the BigQuery job did not finish within job_execution_timeout_seconds \(0\.2 s\) and was cancelled\./);
  assert.equal(since(from, 'jobs.cancel').length, 1);
  assert.equal((since(from, 'jobs.insert')[0].body as { configuration: { jobTimeoutMs: string } }).configuration.jobTimeoutMs, '200', 'BigQuery enforces it too');

  fx.fake.onQuery(/select 'server timeout'/, { error: { reason: 'timeout', message: 'Job timed out after 200ms' } });
  await rejects(slow.query("select 'server timeout'"), /did not finish within job_execution_timeout_seconds/);

  // nothing listens there
  const closed = await openFor(fx, { api_endpoint: 'http://127.0.0.1:9' }).catch((e) => e);
  assert.ok(closed instanceof WarehouseError, String(closed));
  assert.match(closed.message, /cannot reach BigQuery at http:\/\/127\.0\.0\.1:9 \(api_endpoint in profiles\.yml\): ECONNREFUSED/);
});

test('credentials: a revoked key, a 401, a missing or wrong key file, and no secret in any message', async () => {
  const email = 'revoked@acme-ml.iam.gserviceaccount.com';
  const key = fx.fake.serviceAccount(email);
  const keyfile = join(fx.dir, 'revoked.json');
  writeFileSync(keyfile, JSON.stringify(key));
  fx.fake.revokeKey(email);
  const e = await rejects(
    openFor(fx, { keyfile }),
    /Google rejected the credentials of revoked@acme-ml\.iam\.gserviceaccount\.com \(keyfile .*revoked\.json\): invalid_grant: Invalid JWT Signature\.\. The key may have been deleted, disabled or rotated: create a new key/,
  );
  const keyLines = key.private_key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  assert.ok(keyLines.length > 10);
  for (const line of keyLines) {
    assert.ok(!e.message.includes(line), 'no line of the private key in the message');
    assert.equal(redact(`x ${line} y`), 'x **** y', 'every line of the key is registered as a secret');
  }

  fx.fake.fail('datasets.get', { status: 401, reason: 'authError', message: 'Request had invalid authentication credentials.' });
  await rejects(openFor(fx), /BigQuery did not accept the credentials of fsql-runner@acme-ml\.iam\.gserviceaccount\.com \(keyfile .*key\.json\): Request had invalid authentication credentials\./);

  await rejects(openFor(fx, { keyfile: join(fx.dir, 'missing.json') }), /profiles\.yml: output 'prod': keyfile .*missing\.json does not exist\. Download a JSON key/, ProjectError);
  const user = join(fx.dir, 'user.json');
  writeFileSync(user, JSON.stringify({ type: 'authorized_user', client_id: 'c', client_secret: 'topsecretvalue', refresh_token: 'r' }));
  await rejects(openFor(fx, { keyfile: user }), /holds 'authorized_user' credentials, not a service-account key\. For user or workload credentials use method: oauth/, ProjectError);
  await rejects(openFor(fx, { method: 'oauth-secrets' }), /method: 'oauth-secrets' is not supported by fsql/, ProjectError);
  await rejects(openFor(fx, { priority: 'urgent' }), /priority: must be interactive or batch, not 'urgent'/, ProjectError);
  await rejects(openFor(fx, { job_retries: 'two' }), /job_retries: must be a whole number/, ProjectError);
});

test('keyfile_json, oauth through GOOGLE_APPLICATION_CREDENTIALS, and impersonation all authenticate', async () => {
  // keyfile_json as a YAML mapping, private_key with escaped newlines as pasted into single quotes
  const inline = { ...fx.key, private_key: fx.key.private_key.replace(/\n/g, '\\n') };
  let wh: BigQueryWarehouse = await openFor(fx, { keyfile: undefined, keyfile_json: inline, method: 'service-account-json' });
  let from = fx.fake.requests.length;
  fx.fake.onQuery(/select 'who'/, { result: { schema: [{ name: 'x', type: 'INTEGER' }], rows: [[1n]] } });
  await wh.query("select 'who'");
  assert.deepEqual(new Set(since(from).map((r) => r.principal)), new Set([SA_EMAIL]));

  // oauth = application default credentials; here a service-account key named by the variable
  const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.GOOGLE_APPLICATION_CREDENTIALS = fx.keyfile;
  try {
    wh = await openFor(fx, { keyfile: undefined, method: 'oauth' });
    from = fx.fake.requests.length;
    await wh.query("select 'who'");
    assert.equal(since(from, 'jobs.insert')[0].principal, SA_EMAIL);
  } finally {
    if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
  }

  // impersonation: jobs run as the impersonated account, with a token from IAM Credentials
  const target = 'features-writer@acme-ml.iam.gserviceaccount.com';
  fx.fake.allowImpersonation(SA_EMAIL, target);
  wh = await openFor(fx, { impersonate_service_account: target }, { iamEndpoint: fx.fake.url });
  from = fx.fake.requests.length;
  await wh.query("select 'who'");
  assert.deepEqual(new Set(since(from).map((r) => r.principal)), new Set([target]));
  const iam = fx.fake.requests.filter((r) => r.route === 'iam').at(-1)!;
  assert.equal(iam.principal, SA_EMAIL, 'the source account asks for the token');
  assert.ok(((iam.body as { scope: string[] }).scope ?? []).includes('https://www.googleapis.com/auth/bigquery'));

  await rejects(
    openFor(fx, { impersonate_service_account: 'other@acme-ml.iam.gserviceaccount.com' }, { iamEndpoint: fx.fake.url }),
    /cannot impersonate other@acme-ml\.iam\.gserviceaccount\.com \(Permission 'iam\.serviceAccounts\.getAccessToken' denied .*\)\. Grant fsql-runner@acme-ml\.iam\.gserviceaccount\.com the role roles\/iam\.serviceAccountTokenCreator on other@acme-ml/,
  );
});

test('oauth with no application default credentials anywhere says how to log in', async () => {
  const env = { ...process.env };
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '';
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.HOME = fx.dir;
  process.env.CLOUDSDK_CONFIG = join(fx.dir, 'gcloud');
  process.env.METADATA_SERVER_DETECTION = 'none';
  try {
    await rejects(openFor(fx, { keyfile: undefined, method: 'oauth' }), /no Google credentials found \(method: oauth uses application default credentials\)\. Run 'gcloud auth application-default login'/);
  } finally {
    for (const k of ['GOOGLE_APPLICATION_CREDENTIALS', 'HOME', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION']) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
  }
});

test('execution_project runs and bills the jobs while the tables stay in project', async () => {
  const wh = await openFor(fx, { execution_project: 'acme-billing' });
  const from = fx.fake.requests.length;
  await wh.execute('create or replace table `acme-ml.features.t3` as select 1 as x');
  await wh.describe({ database: 'acme-ml', schema: 'features', name: 't3' });
  assert.deepEqual(
    since(from).map((r) => `${r.route} ${r.path.replace(/\/(jobs|queries)\/[^/]+$/, '/$1/ID')}`),
    [
      'jobs.insert /bigquery/v2/projects/acme-billing/jobs',
      'jobs.get /bigquery/v2/projects/acme-billing/jobs/ID',
      'tables.get /bigquery/v2/projects/acme-ml/datasets/features/tables/t3',
    ],
  );
});
