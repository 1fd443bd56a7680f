/**
 * The streamed output path (BigQuery and Snowflake targets writing a local file): rows read chunk
 * by chunk and written as csv, or csv turned into typed parquet. Checked against DuckDB's own COPY
 * of the same query, with values that trip csv writers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvField, streamToFile } from '../src/offline/stream-to-file.js';
import type { Target } from '../src/project/types.js';
import { Timestamp } from '../src/values.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';

const TARGET: Target = { name: 't', type: 'duckdb', schema: 'main', threads: 2, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 't' };

// Strings with separators, quotes, newlines, blanks and the empty string; NULLs of every type;
// large int64s; floats; booleans; timestamps with and without microseconds; lists.
const QUERY = `
select * from (values
  (1, 'plain', 9007199254740993::bigint, 1.5::double, true, timestamp '2024-03-01 10:00:00', [1, 2]::bigint[], ['a', 'b,c']::varchar[]),
  (2, 'comma, "quote"', -5::bigint, -0.25::double, false, timestamp '2024-03-01 10:00:00.123456', []::bigint[], ['it''s']::varchar[]),
  (3, e'line\\nbreak', null, null, null, null, null, null),
  (4, '', 0::bigint, 1e300::double, true, timestamp '1999-12-31 23:59:59.5', [null, 3]::bigint[], [null]::varchar[]),
  (5, ' padded ', 1::bigint, 3.141592653589793::double, false, timestamp '2024-02-29 00:00:00', [4]::bigint[], ['x']::varchar[]),
  (6, null, 2::bigint, 2.0::double, true, timestamp '2024-03-01 00:00:01', [5]::bigint[], ['"q"']::varchar[])
) as t(id, s, big, f, b, ts, ints, strs)
order by id`;

test('csv fields: NULL is empty, the empty string is "", separators and quotes are quoted', () => {
  assert.equal(csvField(null), '');
  assert.equal(csvField(''), '""');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(12345678901234567890n), '12345678901234567890');
  assert.equal(csvField(Number.NaN), 'NaN');
  assert.equal(csvField(new Timestamp(1709287200000000n)), '2024-03-01 10:00:00');
  assert.equal(csvField(new Timestamp(1709287200000001n)), '2024-03-01 10:00:00.000001');
  assert.equal(csvField([1n, null, 'o\'k, "q"']), '"[1,null,""o\'k, \\""q\\""""]"');
});

test('streamed csv and parquet hold the same rows and types as DuckDB writes itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsql-stream-'));
  const wh = await DuckDbWarehouse.open(TARGET);
  try {
    const d = wh.dialect;
    await wh.execute(`create table expected as ${QUERY}`);
    const columns = (await wh.describe({ name: 'expected' }))!;
    assert.equal(await streamToFile(wh, 'select * from expected order by id', columns, join(dir, 'rows.csv'), 'csv'), 6);
    assert.equal(await streamToFile(wh, 'select * from expected order by id', columns, join(dir, 'rows.parquet'), 'parquet'), 6);
    assert.match(readFileSync(join(dir, 'rows.csv'), 'utf8'), /^id,s,big,f,b,ts,ints,strs\n1,plain,9007199254740993,1\.5,true,2024-03-01 10:00:00,/);

    // Parquet keeps the types: no difference to the table in either direction.
    const parquet = `read_parquet(${d.stringLiteral(join(dir, 'rows.parquet'))})`;
    assert.deepEqual((await wh.describe({ name: 'expected' }))!.map((c) => c.type), (await typesOf(wh, `select * from ${parquet}`)));
    for (const [a, b] of [['expected', parquet], [parquet, 'expected']]) {
      assert.deepEqual(await wh.query(`select id from (select * from ${a} except all select * from ${b})`), [], `${a} minus ${b}`);
    }
    // The csv reads back to the same values when read with the columns' types (lists as JSON).
    const csv = `read_csv(${d.stringLiteral(join(dir, 'rows.csv'))}, header = true, auto_detect = false, allow_quoted_nulls = false, columns = {'id': 'BIGINT', 's': 'VARCHAR', 'big': 'BIGINT', 'f': 'DOUBLE', 'b': 'BOOLEAN', 'ts': 'TIMESTAMP', 'ints': 'JSON', 'strs': 'JSON'})`;
    const typed = `select * replace (cast(ints as bigint[]) as ints, cast(strs as varchar[]) as strs) from ${csv}`;
    assert.deepEqual(await wh.query(`select id from (select * from expected except all ${typed})`), []);
  } finally {
    await wh.close();
  }
});

async function typesOf(wh: DuckDbWarehouse, select: string) {
  await wh.execute(`create or replace view probe as ${select}`);
  return (await wh.describe({ name: 'probe' }))!.map((c) => c.type);
}
