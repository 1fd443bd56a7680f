/**
 * The Snowflake adapter on the real snowflake-sdk, against FakeSnowflake on loopback: login and
 * session set-up, types, multi-chunk streaming, transactions, describe, PUT + COPY, and the
 * errors users get.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WarehouseError } from '../src/errors.js';
import { ConnectTimeout, isTransient } from '../src/warehouse/snowflake-errors.js';
import { Timestamp } from '../src/values.js';
import { FakeSnowflake, type FakeResult } from './fakes/snowflake-server.js';
import { openSf, SF_PASSWORD } from './helpers/snowflake.js';

let fake: FakeSnowflake;
before(async () => {
  fake = await FakeSnowflake.start();
});
after(async () => {
  await fake.stop();
});

/** A fresh fake per test keeps scripts and recordings apart. */
async function withFake<T>(fn: (f: FakeSnowflake) => Promise<T>): Promise<T> {
  const f = await FakeSnowflake.start();
  try {
    return await fn(f);
  } finally {
    await f.stop();
  }
}

async function rejects(p: Promise<unknown>): Promise<WarehouseError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WarehouseError, `expected a WarehouseError, got ${(e as Error)?.stack ?? String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('login and session', () => {
  test('sends the profile credentials and context, tags queries, and runs every session in UTC', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f, { query_tag: 'fsql-nightly', client_session_keep_alive: true });
      await wh.close();
      assert.equal(f.logins.length, 1);
      const { query, data } = f.logins[0];
      assert.deepEqual(
        { warehouse: query.warehouse, databaseName: query.databaseName, schemaName: query.schemaName, roleName: query.roleName },
        { warehouse: 'COMPUTE_WH', databaseName: 'ANALYTICS', schemaName: 'FEATURES', roleName: 'TRANSFORMER' },
      );
      assert.equal(data.LOGIN_NAME, 'fsql');
      assert.equal(data.PASSWORD, SF_PASSWORD);
      assert.equal(data.ACCOUNT_NAME, 'xy12345');
      assert.equal(data.AUTHENTICATOR, 'SNOWFLAKE');
      const params = data.SESSION_PARAMETERS as Record<string, unknown>;
      assert.equal(params.QUERY_TAG, 'fsql-nightly');
      assert.equal(params.CLIENT_SESSION_KEEP_ALIVE, true);
      assert.deepEqual(f.queries, [
        "alter session set timezone = 'UTC' week_start = 1",
        'select current_database() as database, current_schema() as schema, current_warehouse() as warehouse, current_role() as role',
      ]);
      assert.equal(f.sessionParams()[0]?.TIMEZONE, undefined, 'the session is deleted on close');
      assert.ok(f.requests.some((r) => r.path === '/session'), 'close logs the session out');
    });
  });

  test('opens one session per concurrent caller, each set to UTC, and reuses them', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      f.on(/^select 1/, { result: { columns: [{ name: 'ONE', type: 'fixed' }], rows: [['1']] } });
      await Promise.all([wh.query('select 1 a'), wh.query('select 1 b'), wh.query('select 1 c')]);
      await wh.query('select 1 d');
      assert.equal(f.logins.length, 3);
      assert.equal(f.queries.filter((q) => q === "alter session set timezone = 'UTC' week_start = 1").length, 3);
      assert.deepEqual(f.sessionParams().map((p) => p.TIMEZONE), ['UTC', 'UTC', 'UTC']);
      await wh.close();
    });
  });

  test('key-pair login signs a JWT with private_key_path (encrypted, with private_key_passphrase)', async () => {
    await withFake(async (f) => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const dir = mkdtempSync(join(tmpdir(), 'sf-key-'));
      const path = join(dir, 'rsa_key.p8');
      writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'open sesame' }));
      f.credentials = { user: 'fsql', publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
      const wh = await openSf(f, { password: undefined, private_key_path: path, private_key_passphrase: 'open sesame' });
      await wh.close();
      assert.equal(f.logins.at(-1)!.data.AUTHENTICATOR, 'SNOWFLAKE_JWT');
      assert.equal(f.logins.at(-1)!.ok, true);

      // the same key as base64 DER in private_key: (as secret stores hold it)
      const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
      const wh2 = await openSf(f, { password: undefined, private_key: der });
      await wh2.close();
      assert.equal(f.logins.at(-1)!.ok, true);

      // a key that is not the user's is refused, and the message says what to check
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      const err = await rejects(openSf(f, { password: undefined, private_key: other }));
      assert.match(err.message, /Snowflake rejected the key-pair login of user 'fsql' on account 'xy12345\.us-east-1'/);
      assert.match(err.message, /RSA_PUBLIC_KEY/);
      assert.ok(!err.message.includes('PRIVATE KEY'), err.message);
    });
  });

  test('oauth sends the token; a bad token is reported without showing it', async () => {
    await withFake(async (f) => {
      f.credentials = { user: 'fsql', oauthToken: 'oauth-token-123456' };
      const wh = await openSf(f, { password: undefined, authenticator: 'oauth', token: 'oauth-token-123456' });
      await wh.close();
      assert.equal(f.logins.at(-1)!.data.AUTHENTICATOR, 'OAUTH');
      assert.equal(f.logins.at(-1)!.data.TOKEN, 'oauth-token-123456');
      const err = await rejects(openSf(f, { password: undefined, authenticator: 'oauth', token: 'stale-token-999999' }));
      assert.match(err.message, /Snowflake rejected the token of user 'fsql'.*Invalid OAuth access token.*set token:/s);
      assert.ok(!err.message.includes('stale-token-999999'));
    });
  });

  test('externalbrowser opens the SSO page and logs in with the token the browser brings back', async () => {
    await withFake(async (f) => {
      f.credentials = { user: 'fsql', ssoToken: 'sso-token-from-idp' };
      const opened: string[] = [];
      // the "browser": the identity provider redirects to the SDK's local port with the token
      const openBrowser = (url: string) => {
        opened.push(url);
        const port = new URL(url).searchParams.get('browser_mode_redirect_port');
        request({ host: '127.0.0.1', port: Number(port), path: '/?token=sso-token-from-idp' }, (res) => res.resume()).end();
      };
      // the SDK asks https://<host>:443/session/authenticator-request for the SSO URL, which a
      // loopback fake on another port cannot answer; its console-login flow builds the URL itself
      const wh = await openSf(f, { password: undefined, authenticator: 'externalbrowser' }, {
        openBrowser,
        sdkOptions: { disableConsoleLogin: false, credentialCacheDir: mkdtempSync(join(tmpdir(), 'sf-cache-')) },
      });
      await wh.close();
      assert.equal(opened.length, 1);
      assert.match(opened[0], /\/console\/login\?login_name=fsql&proof_key=/);
      const login = f.logins.at(-1)!;
      assert.equal(login.data.AUTHENTICATOR, 'EXTERNALBROWSER');
      assert.equal(login.data.TOKEN, 'sso-token-from-idp');
      assert.ok(login.data.PROOF_KEY);
      assert.equal(login.ok, true);
    });
  });

  test('an expired session token is renewed with the master token and the query goes through', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      f.on(/^select 42/, { result: { columns: [{ name: 'X', type: 'fixed' }], rows: [['42']] } });
      f.expireSessionOnce();
      assert.deepEqual(await wh.query('select 42 as x'), [{ x: 42n }]);
      assert.ok(f.requests.some((r) => r.path === '/session/token-request'));
      await wh.close();
    });
  });
});

describe('results', () => {
  const TYPES: FakeResult = {
    columns: [
      { name: 'BIG', type: 'fixed' },
      { name: 'PRICE', type: 'fixed', scale: 2 },
      { name: 'RATIO', type: 'real' },
      { name: 'NAME', type: 'text' },
      { name: 'OK', type: 'boolean' },
      { name: 'NTZ', type: 'timestamp_ntz' },
      { name: 'LTZ', type: 'timestamp_ltz' },
      { name: 'TZ', type: 'timestamp_tz' },
      { name: 'DAY', type: 'date' },
      { name: 'TAGS', type: 'array' },
      { name: 'mixedCase', type: 'variant' },
    ],
    rows: [
      ['9223372036854775807', '12.50', '0.1', 'u_1', '1', '1711929600.123456000', '1711929600.000001000', '1711929600.123456000 1500', '19814', '["a","b"]', '{"k":1}'],
      ['-9223372036854775808', null, 'inf', '', '0', '0.000000000', null, '1711929600.000000000 1440', null, '[1.5,2]', null],
      [null, '0.00', 'NaN', null, null, '-1.500000000', null, null, '0', '[]', null],
    ],
  };

  test('maps every type to the common set, int64 exact and timestamps to the microsecond', async () => {
    const wh = await openSf(fake);
    try {
      fake.on(/^select \* from typed/, { result: TYPES });
      const rows = await wh.query('select * from typed');
      assert.deepEqual(rows[0], {
        big: 9223372036854775807n,
        price: 12.5,
        ratio: 0.1,
        name: 'u_1',
        ok: true,
        ntz: Timestamp.parse('2024-04-01T00:00:00.123456Z'),
        ltz: Timestamp.parse('2024-04-01T00:00:00.000001Z'),
        tz: Timestamp.parse('2024-04-01T00:00:00.123456Z'),
        day: Timestamp.parse('2024-04-01'),
        tags: ['a', 'b'],
        mixedCase: '{"k":1}',
      });
      assert.equal(rows[1].big, -9223372036854775808n);
      assert.equal(rows[1].ratio, Infinity);
      assert.equal(rows[1].ok, false);
      assert.equal(rows[1].name, '');
      assert.deepEqual(rows[1].tags, [1.5, 2]);
      assert.equal(rows[2].big, null);
      assert.ok(Number.isNaN(rows[2].ratio));
      assert.deepEqual(rows[2].ntz, new Timestamp(-1500000n));
      assert.deepEqual(rows[2].day, new Timestamp(0n));
      assert.deepEqual(rows[2].tags, []);
    } finally {
      await wh.close();
    }
  });

  test('pages through a multi-chunk result in order, fetching chunks with their SSE-C headers', async () => {
    await withFake(async (f) => {
      f.chunkRows = 7;
      const rows = Array.from({ length: 50 }, (_, i) => [String(i), `k${i}`]);
      f.on(/^select id, k from many/, { result: { columns: [{ name: 'ID', type: 'fixed' }, { name: 'K', type: 'text' }], rows } });
      const wh = await openSf(f);
      const batches: number[] = [];
      const ids: bigint[] = [];
      for await (const batch of wh.stream('select id, k from many', { chunkRows: 10 })) {
        batches.push(batch.length);
        for (const r of batch) ids.push(r.id as bigint);
      }
      assert.deepEqual(batches, [10, 10, 10, 10, 10]);
      assert.deepEqual(ids, rows.map((r) => BigInt(r[0])));
      assert.equal(f.chunkFetches.length, 7, '7 rows inline, 43 in 7 chunks');
      await wh.close();
    });
  });

  test('streams: a consumer that stops early leaves the remaining chunks unfetched', async () => {
    await withFake(async (f) => {
      f.chunkRows = 10;
      const rows = Array.from({ length: 400 }, (_, i) => [String(i)]);
      f.on(/^select id from huge/, { result: { columns: [{ name: 'ID', type: 'fixed' }], rows } });
      const wh = await openSf(f);
      let seen = 0;
      for await (const batch of wh.stream('select id from huge', { chunkRows: 5 })) {
        seen += batch.length;
        break;
      }
      assert.equal(seen, 5);
      assert.ok(f.chunkFetches.length < 10, `fetched ${f.chunkFetches.length} of 39 chunks`);
      // the session is free again afterwards
      f.on(/^select 7/, { result: { columns: [{ name: 'N', type: 'fixed' }], rows: [['7']] } });
      assert.deepEqual(await wh.query('select 7 as n'), [{ n: 7n }]);
      assert.equal(f.logins.length, 1);
      await wh.close();
    });
  });

  test('waits for a long query through the result URL Snowflake hands back', async () => {
    await withFake(async (f) => {
      f.on(/^select slow/, { result: { columns: [{ name: 'N', type: 'fixed' }], rows: [['1']] }, polls: 2 });
      const wh = await openSf(f);
      assert.deepEqual(await wh.query('select slow'), [{ n: 1n }]);
      assert.equal(f.requests.filter((r) => /^\/queries\/[^/]+\/result$/.test(r.path)).length, 2);
      await wh.close();
    });
  });
});

describe('statements', () => {
  test('atomic statements run in one transaction on one session; a failure rolls back and names the view file', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      await wh.execute(['delete from t where x', 'insert into t select 1'], { atomic: true, label: 'models/v.sql' });
      assert.deepEqual(f.statements(), ['begin transaction', 'delete from t where x', 'insert into t select 1', 'commit']);
      f.on(/^insert into t/, { error: { code: '002003', sqlState: '42S02', message: "SQL compilation error:\nObject 'RAW.TRANSACTIONS' does not exist or not authorized." } });
      const err = await rejects(wh.execute(['delete from t where x', 'insert into t select 2'], { atomic: true, label: 'models/v.sql' }));
      assert.deepEqual(f.statements().slice(4), ['begin transaction', 'delete from t where x', 'insert into t select 2', 'rollback']);
      assert.match(err.message, /^models\/v\.sql: Snowflake error 002003 \(42S02\): SQL compilation error:\nObject 'RAW\.TRANSACTIONS' does not exist or not authorized\./);
      assert.match(err.message, /role TRANSFORMER can see it/);
      assert.equal(f.logins.length, 1, 'one session throughout');
      await wh.close();
    });
  });

  test('describe reads information_schema with the folded names; undefined when there is no such table', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      f.on(/information_schema\.columns where table_schema = 'FEATURES' and table_name = 'USER_STATS'/, {
        result: {
          columns: [{ name: 'COLUMN_NAME', type: 'text' }, { name: 'DATA_TYPE', type: 'text' }, { name: 'NUMERIC_SCALE', type: 'fixed' }],
          rows: [['USER_ID', 'TEXT', null], ['EVENT_TS', 'TIMESTAMP_NTZ', null], ['TXN_COUNT', 'NUMBER', '0'], ['SPEND', 'NUMBER', '2'], ['RATE', 'FLOAT', null], ['FLAG', 'BOOLEAN', null], ['ITEMS', 'ARRAY', null], ['camelCol', 'VARIANT', null]],
        },
      });
      const cols = await wh.describe({ database: 'ANALYTICS', schema: 'FEATURES', name: 'user_stats' });
      assert.equal(
        f.statements().at(-1),
        `select column_name, data_type, numeric_scale from "ANALYTICS".information_schema.columns where table_schema = 'FEATURES' and table_name = 'USER_STATS' order by ordinal_position`,
      );
      assert.deepEqual(cols, [
        { name: 'user_id', type: { type: 'string' } },
        { name: 'event_ts', type: { type: 'timestamp' } },
        { name: 'txn_count', type: { type: 'int64' } },
        { name: 'spend', type: { type: 'float64' } },
        { name: 'rate', type: { type: 'float64' } },
        { name: 'flag', type: { type: 'boolean' } },
        { name: 'items', type: { type: 'array' } },
        { name: 'camelCol', type: { type: 'string' } },
      ]);
      assert.equal(await wh.describe({ database: 'ANALYTICS', schema: 'FEATURES', name: 'missing' }), undefined);
      await wh.close();
    });
  });

  test('loadFile stages the file with PUT and copies it in by column name, then cleans up', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      const dir = mkdtempSync(join(tmpdir(), 'sf-events-'));
      const csv = join(dir, 'events.csv');
      writeFileSync(csv, 'event_id,user_id,event_timestamp\ne1,u1,2024-04-01 10:00:00\n');
      await wh.loadFile(csv, { name: 'events_tmp' });
      const sent = f.statements();
      const stage = /^create or replace temporary stage ("ANALYTICS"\."FEATURES"\."FSQL_LOAD_[0-9A-F]{12}")$/.exec(sent[1])![1];
      const format = stage.replace(/"$/, '_FORMAT"');
      assert.deepEqual(sent, [
        `create or replace temporary file format ${format} type = csv parse_header = true field_optionally_enclosed_by = '"' empty_field_as_null = true`,
        `create or replace temporary stage ${stage}`,
        `put 'file://${csv}' @${stage} auto_compress = true overwrite = true`,
        `create or replace table "ANALYTICS"."FEATURES"."EVENTS_TMP" using template (select array_agg(object_construct(*)) within group (order by order_id) from table(infer_schema(location => '@${stage}', file_format => '${format}', ignore_case => true)))`,
        `copy into "ANALYTICS"."FEATURES"."EVENTS_TMP" from @${stage} file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '"' empty_field_as_null = true)`,
        `drop stage if exists ${stage}`,
        `drop file format if exists ${format}`,
      ]);
      // the SDK really uploaded the file (compressed) where Snowflake told it to
      const staged = readdirSync(f.stageDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
      assert.equal(staged.length, 1);
      assert.equal(staged[0].name, 'events.csv.gz');
      assert.equal(gunzipSync(readFileSync(join(staged[0].parentPath, staged[0].name))).toString(), readFileSync(csv, 'utf8'));
      await wh.close();
    });
  });

  test('validate EXPLAINs the query without running it; a bad one names the view file', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      assert.deepEqual(await wh.validate('select user_id from "RAW"."TRANSACTIONS"', { label: 'models/ok.sql' }), { method: 'EXPLAIN' });
      assert.equal(f.statements().at(-1), 'explain using tabular select user_id from "RAW"."TRANSACTIONS"');
      f.on(/^explain using tabular select nope/, { error: { code: '000904', sqlState: '42000', message: "SQL compilation error: error line 1 at position 7\ninvalid identifier 'NOPE'" } });
      const err = await rejects(wh.validate('select nope from "RAW"."TRANSACTIONS"', { label: 'models/bad.sql' }));
      assert.equal(err.message, "models/bad.sql: Snowflake error 000904 (42000): SQL compilation error: error line 1 at position 7\ninvalid identifier 'NOPE'");
      await wh.close();
    });
  });

  test('reuse_connections: false logs in for every statement and out after it', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f, { reuse_connections: false });
      await wh.execute('create or replace table a as select 1');
      await wh.execute('create or replace table b as select 1');
      await wh.close();
      assert.equal(f.logins.length, 3);
      assert.equal(f.requests.filter((r) => r.path === '/session').length, 3);
    });
  });

  test('loadFile refuses what it cannot load, naming the file', async () => {
    const wh = await openSf(fake);
    try {
      assert.match((await rejects(wh.loadFile('/tmp/events.json', { name: 'x' }))).message, /events\.json: only \.csv and \.parquet files can be loaded/);
      assert.match((await rejects(wh.loadFile('/nonexistent/events.csv', { name: 'x' }))).message, /events\.csv: file not found/);
    } finally {
      await wh.close();
    }
  });
});

describe('errors users can act on', () => {
  test('a wrong password names the user, the account and where to fix it, and never shows the password', async () => {
    await withFake(async (f) => {
      f.credentials = { user: 'fsql', password: 'the real one' };
      const err = await rejects(openSf(f, { connect_retries: 3 }));
      assert.equal(
        err.message,
        "Snowflake rejected the login of user 'fsql' on account 'xy12345.us-east-1': Incorrect username or password was specified. Check user: and password: in profiles.yml, output 'sf' (and the environment variables they read).",
      );
      assert.equal(f.logins.length, 1, 'a refused login is not retried');
      assert.ok(!err.message.includes(SF_PASSWORD) && !(err.stack ?? '').includes(SF_PASSWORD));
    });
  });

  test('retry_on_database_errors retries even a refused login', async () => {
    await withFake(async (f) => {
      f.failLogins({ error: { code: '390100', message: 'Incorrect username or password was specified.' } });
      const wh = await openSf(f, { connect_retries: 1, retry_on_database_errors: true });
      await wh.close();
      assert.deepEqual(f.logins.map((l) => l.ok), [false, true]);
    });
  });

  test('a role the user does not have', async () => {
    await withFake(async (f) => {
      f.credentials = { user: 'fsql', password: SF_PASSWORD, roles: ['PUBLIC'] };
      const err = await rejects(openSf(f));
      assert.match(err.message, /^Snowflake refused role 'TRANSFORMER' for user 'fsql': Role 'TRANSFORMER' specified in the connect string is not granted to this user\./);
      assert.match(err.message, /GRANT ROLE TRANSFORMER TO USER fsql\) or set role: in profiles\.yml, output 'sf'/);
    });
  });

  test('a database or warehouse refused at login (390201)', async () => {
    await withFake(async (f) => {
      f.failLogins({ error: { code: '390201', message: 'The requested database does not exist or not authorized.' } });
      const err = await rejects(openSf(f));
      assert.match(err.message, /^Snowflake error 390201: The requested database does not exist or not authorized\. Check database: 'ANALYTICS', schema: 'FEATURES' and warehouse: 'COMPUTE_WH' in profiles\.yml, output 'sf'/);
      assert.match(err.message, /GRANT USAGE ON DATABASE ANALYTICS TO ROLE TRANSFORMER; GRANT USAGE ON WAREHOUSE COMPUTE_WH TO ROLE TRANSFORMER/);
    });
  });

  test('a missing warehouse or database that Snowflake lets the login through with is caught at once', async () => {
    await withFake(async (f) => {
      f.catalog = { warehouses: ['OTHER_WH'] };
      let err = await rejects(openSf(f));
      assert.equal(
        err.message,
        "Snowflake warehouse 'COMPUTE_WH' (warehouse: in profiles.yml, output 'sf') does not exist or role TRANSFORMER may not use it. Check the name, or GRANT USAGE ON WAREHOUSE COMPUTE_WH TO ROLE TRANSFORMER.",
      );
      f.catalog = { databases: ['OTHER_DB'] };
      err = await rejects(openSf(f));
      assert.equal(
        err.message,
        "Snowflake database 'ANALYTICS' (database: in profiles.yml, output 'sf') does not exist or role TRANSFORMER may not use it. Check the name, or GRANT USAGE ON DATABASE ANALYTICS TO ROLE TRANSFORMER.",
      );
    });
  });

  test('a missing schema is created; if the role may not, the message says which grant is missing', async () => {
    await withFake(async (f) => {
      f.catalog = { schemas: ['RAW'] };
      const wh = await openSf(f);
      await wh.close();
      assert.deepEqual(f.statements(), ['create schema if not exists "ANALYTICS"."FEATURES"', 'use schema "ANALYTICS"."FEATURES"']);
      f.on(/^create schema/, { error: { code: '003001', sqlState: '42501', message: "SQL access control error:\nInsufficient privileges to operate on database 'ANALYTICS'" } });
      const err = await rejects(openSf(f));
      assert.match(err.message, /^Snowflake schema "ANALYTICS"\."FEATURES" \(schema: in profiles\.yml, output 'sf'\) does not exist and role TRANSFORMER could not create it/);
      assert.match(err.message, /GRANT CREATE SCHEMA ON DATABASE ANALYTICS TO ROLE TRANSFORMER/);
    });
  });

  test('permission denied and no active warehouse on a statement point at the view file and the grant', async () => {
    const wh = await openSf(fake);
    try {
      fake.on(/^create or replace table "ANALYTICS"\."FEATURES"\."DENIED"/, { error: { code: '003001', sqlState: '42501', message: "SQL access control error:\nInsufficient privileges to operate on schema 'FEATURES'" } }, 1);
      let err = await rejects(wh.execute('create or replace table "ANALYTICS"."FEATURES"."DENIED" as select 1', { label: 'models/denied.sql' }));
      assert.match(err.message, /^models\/denied\.sql: Snowflake error 003001 \(42501\): SQL access control error:\nInsufficient privileges to operate on schema 'FEATURES' role TRANSFORMER lacks a privilege this statement needs\./);
      assert.match(err.message, /CREATE TABLE, CREATE VIEW, CREATE STAGE and CREATE FILE FORMAT on the schema/);
      fake.on(/^select parked/, { error: { code: '000606', sqlState: '57P03', message: 'No active warehouse selected in the current session.' } }, 1);
      err = await rejects(wh.query('select parked', { label: 'models/parked.sql' }));
      assert.match(err.message, /^models\/parked\.sql: Snowflake error 000606 \(57P03\): No active warehouse selected in the current session\. Set warehouse: in profiles\.yml, output 'sf' to a warehouse role TRANSFORMER may use \(GRANT USAGE ON WAREHOUSE COMPUTE_WH TO ROLE TRANSFORMER\)\./);
      fake.on(/^selec typo/, { error: { code: '001003', message: "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'selec'." } }, 1);
      err = await rejects(wh.query('selec typo from t'));
      assert.equal(err.message, "Snowflake error 001003 (42000): SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'selec'. (while running: selec typo from t)");
    } finally {
      await wh.close();
    }
  });
});

describe('transient failures', () => {
  test('which errors count as transient', () => {
    assert.equal(isTransient({ code: 401001, message: 'Network error. Could not reach Snowflake.' }), true);
    assert.equal(isTransient({ code: 401002, response: { statusCode: 503 } }), true);
    assert.equal(isTransient({ code: 401002, response: { statusCode: 429 } }), true);
    assert.equal(isTransient({ code: 402002, response: { statusCode: 500 } }), true);
    assert.equal(isTransient({ code: 401002, response: { statusCode: 400 } }), false);
    assert.equal(isTransient({ code: 'ECONNRESET' }), true);
    assert.equal(isTransient({ code: 401001, cause: { code: 'ECONNREFUSED' } }), true);
    assert.equal(isTransient(new ConnectTimeout(10_000)), true);
    assert.equal(isTransient({ code: '390100', message: 'Incorrect username or password was specified.' }), false);
    assert.equal(isTransient({ code: '002003', sqlState: '42S02' }), false);
    assert.equal(isTransient(new WarehouseError('x')), false);
  });

  test('login answered with HTTP 503 is retried with backoff per connect_retries', async () => {
    await withFake(async (f) => {
      f.failLogins({ httpStatus: 503 }, { httpStatus: 503 });
      const wh = await openSf(f, { connect_retries: 2 });
      await wh.close();
      assert.deepEqual(f.logins.map((l) => l.ok), [false, false, true]);
    });
  });

  test('and reported once the retries are spent', async () => {
    await withFake(async (f) => {
      f.failLogins({ httpStatus: 503 }, { httpStatus: 503 }, { httpStatus: 503 });
      const err = await rejects(openSf(f, { connect_retries: 1 }));
      assert.equal(
        err.message,
        `Snowflake did not answer after 2 attempts (HTTP 503 from Snowflake) at ${f.accessUrl}. It may be unavailable or unreachable from here; try again later, or raise connect_retries in profiles.yml, output 'sf' to retry longer.`,
      );
      assert.equal(f.logins.length, 2);
    });
  });

  test('a login that hangs past connect_timeout is abandoned and retried', async () => {
    await withFake(async (f) => {
      f.delayLogins(1400);
      const t0 = Date.now();
      const wh = await openSf(f, { connect_timeout: 1, connect_retries: 1 });
      assert.ok(Date.now() - t0 < 1350, 'did not wait for the hanging login');
      await wh.close();
      assert.equal(f.logins.length, 2);
      // once the hanging login finally answers, that session is logged out again
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(f.logins.filter((l) => l.ok).length, 2);
      assert.equal(f.requests.filter((r) => r.path === '/session').length, 2);
    });
  });

  test('a query answered with HTTP 503 is sent again by the SDK and succeeds', async () => {
    await withFake(async (f) => {
      const wh = await openSf(f);
      f.on(/^select 5/, { result: { columns: [{ name: 'FIVE', type: 'fixed' }], rows: [['5']] } });
      f.on(/^select 5/, { httpStatus: 503 }, 1);
      assert.deepEqual(await wh.query('select 5 as five'), [{ five: 5n }]);
      assert.deepEqual(f.statements(), ['select 5 as five', 'select 5 as five']);
      await wh.close();
    });
  });
});
