/**
 * Reading DuckDB results from the vectors' memory (src/warehouse/duckdb-chunk.ts) against
 * node-api's own accessors, cell by cell: every fast-path type, NULLs scattered over several
 * validity words, strings inline (<= 12 bytes) and behind pointers, non-ASCII text, extreme values,
 * and results spanning many chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, DuckDBTimestampValue, DuckDBDateValue, type DuckDBValue } from '@duckdb/node-api';
import type { Target } from '../src/project/types.js';
import { Timestamp, type Value } from '../src/values.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';

const TARGET: Target = { name: 't', type: 'duckdb', schema: 'main', threads: 2, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 't' };

const ROWS = 5000;
// NULL where i % 7 = 3 (and in `sparse`, only in the last row): validity bits in every byte and word.
const nul = (expr: string) => `case when i % 7 = 3 then null else ${expr} end`;
const QUERY = `
select
  i,
  ${nul('i % 2 = 0')} as b,
  ${nul('(i % 256 - 128)::tinyint')} as ti,
  ${nul('(i % 256)::utinyint')} as uti,
  ${nul('(i * 13 - 32768)::smallint')} as si,
  ${nul('(i * 13)::usmallint')} as usi,
  ${nul('(i * 400000 - 2000000000)::integer')} as ii,
  ${nul('(i * 800000)::uinteger')} as ui,
  ${nul("case when i = 1 then 9223372036854775807 when i = 2 then -9223372036854775808 else i * 1000000007 end::bigint")} as bi,
  ${nul("case when i = 1 then 18446744073709551615 else i end::ubigint")} as ubi,
  ${nul('(i / 3.0)::float')} as fl,
  ${nul("case when i = 1 then 'nan'::double when i = 2 then 'inf'::double when i = 4 then '-0.0'::double else i / 7.0 end")} as db,
  ${nul("timestamp '1969-12-31 23:59:59.999999' + to_microseconds(i * 123456789)")} as ts,
  ${nul("timestamptz '2024-02-29 12:00:00+00' + to_seconds(i)")} as tstz,
  ${nul("date '1901-01-01' + (i * 11)::integer")} as d,
  ${nul("case i % 4 when 0 then '' when 1 then 'short' when 2 then 'a string longer than twelve bytes ' || i else 'ünïcödé ✓ ' || i end")} as s,
  case when i = ${ROWS - 1} then null else 'x' || i end as sparse,
  ${nul('[i, i + 1]::bigint[]')} as list,
  ${nul("case i % 3 when 0 then []::varchar[] when 1 then ['a', null, 'a string longer than twelve bytes ' || i] else ['ünïcödé ' || i] end")} as slist,
  ${nul('(i / 100.0)::decimal(10, 2)')} as dec
from range(${ROWS}) t(i)
order by i`;

/** What node-api's accessors give for a cell, as an fsql value. */
function expected(v: DuckDBValue): Value {
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) === false) return v;
  if (v instanceof DuckDBTimestampValue) return new Timestamp(v.micros);
  if (v instanceof DuckDBDateValue) return new Timestamp(BigInt(v.days) * 86400000000n);
  if (typeof v === 'object' && 'micros' in v) return new Timestamp((v as { micros: bigint }).micros);
  return v as Value;
}

test('rows read from vector memory equal node-api values, cell by cell, over many chunks', async () => {
  const wh = await DuckDbWarehouse.open(TARGET);
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    const reference = await conn.runAndReadAll(`set TimeZone = 'UTC'; ${QUERY}`);
    const names = reference.columnNames();
    const refRows = reference.getRows();
    let rows = 0;
    let chunks = 0;
    for await (const chunk of wh.stream(QUERY, { chunkRows: 1000 })) {
      chunks++;
      for (const row of chunk) {
        const ref = refRows[rows];
        for (let c = 0; c < names.length; c++) {
          const name = names[c];
          const got = row[name];
          const want = expected(ref[c]);
          const where = `row ${rows}, column ${name}`;
          if (name === 'list' || name === 'slist') assert.deepEqual(got, want === null ? null : (ref[c] as unknown as { items: Value[] }).items, where);
          else if (name === 'dec') assert.equal(got, want === null ? null : Number(String(ref[c])), where);
          else if (want instanceof Timestamp) assert.equal((got as Timestamp).micros, want.micros, where);
          else if (['ti', 'uti', 'si', 'usi', 'ii', 'ui', 'bi', 'ubi'].includes(name)) assert.equal(got, want === null ? null : BigInt(want as number), where);
          else if (name === 'b') assert.equal(got, want === null ? null : Boolean(want), where);
          else assert.ok(Object.is(got, want), `${where}: ${String(got)} !== ${String(want)}`);
        }
        rows++;
      }
    }
    assert.equal(rows, ROWS);
    assert.equal(chunks, 3, "DuckDB's 2,048-row chunks gathered into batches of at least 1,000 rows");
    // The edges, spelled out: node-api and the fast reader could agree on a wrong value.
    const first = (await wh.query(`select * from (${QUERY}) where i in (1, 2, 4) order by i`)).map((r) => [r.bi, r.ubi, r.db, (r.ts as Timestamp).toISOString()]);
    assert.deepEqual(first[0], [9223372036854775807n, 18446744073709551615n, NaN, '1970-01-01T00:02:03.456788Z']);
    assert.deepEqual(first[1], [-9223372036854775808n, 2n, Infinity, '1970-01-01T00:04:06.913577Z']);
    assert.ok(Object.is(first[2][2], -0));
    const text = await wh.query(`select * from (${QUERY}) where i in (2, 3, 7, ${ROWS - 1}) order by i`);
    assert.deepEqual(
      text.map((r) => [r.s, r.sparse]),
      [
        ['a string longer than twelve bytes 2', 'x2'],
        [null, 'x3'],
        ['ünïcödé ✓ 7', 'x7'],
        ['ünïcödé ✓ 4999', null],
      ],
    );
  } finally {
    instance.closeSync();
    await wh.close();
  }
});
