/**
 * The sync's columnar path against the row path it replaces: DuckDB batches read as values
 * (column-batch.ts valueAt) equal the rows wh.stream gives, and the Redis bytes written straight
 * from the columns (column-codec.ts) equal, row by row, what the row writers (redis/batch.ts
 * rowSource: keys.ts entityAfterName, codec.ts writeStored, expiryArg) write for those rows. Cells
 * cover every fast path and its fallbacks: int64 beyond 2^53, NaN, -0, infinities, strings that
 * need JSON escapes or key escapes, inline and out-of-line strings, timestamps before 1970,
 * NULLs, and column kinds without a fast path (lists, INTEGER, FLOAT, DATE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { valueAt, type ColumnBatch } from '../src/column-batch.js';
import { AsciiWriter } from '../src/online/ascii-writer.js';
import { columnSource } from '../src/online/column-codec.js';
import { toOnlineRows } from '../src/online/column-rows.js';
import { rowSource, type RowSource } from '../src/online/row-source.js';
import type { ColumnRows, ViewLayout } from '../src/online/store.js';
import type { Target } from '../src/project/types.js';
import { Timestamp, type Row, type Value } from '../src/values.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb.js';

const TARGET: Target = { name: 't', type: 'duckdb', schema: 'main', threads: 2, settings: { path: ':memory:' }, onlineStore: { type: 'sqlite' }, serve: { auth: false }, profileFile: 't' };
const ROWS = 3000;
const nul = (expr: string, every = 7) => `case when i % ${every} = 3 then null else ${expr} end`;
const STRINGS = [`''`, `'plain'`, `'quote " inside'`, `'back\\slash'`, `'new' || chr(10) || 'line'`, `'tab' || chr(9)`, `chr(1) || 'ctl'`, `'del' || chr(127)`, `'ünïcödé'`, `'emoji 😀'`, `'a plain string longer than twelve bytes'`, `'long with "escape" and ü beyond twelve bytes'`];
const KEYS = [`'u_' || i`, `'k:{' || i || '}'`, `'spaced key ' || i`, `'ü' || i`, `'a key that is longer than twelve bytes ' || i`];
const pick = (list: string[]) => `case i % ${list.length} ${list.map((s, n) => `when ${n} then ${s}`).join(' ')} end`;
const QUERY = `
select
  ${nul(pick(KEYS), 11)} as k,
  ${nul('i * 37 - 50000', 13)}::bigint as k2,
  ${nul('i * 3', 19)}::integer as k3,
  timestamp '1969-12-31 23:59:59' + to_microseconds(i * 987654321) as ts,
  ${nul("timestamp '2024-01-01' + to_seconds(i % 5)")} as created,
  ${nul("case i % 6 when 0 then 9223372036854775807 when 1 then -9223372036854775808 when 2 then 9007199254740993 when 3 then -9007199254740992 else i * 1000003 - 1000000 end")}::bigint as f_int,
  ${nul("case i % 9 when 0 then 'nan'::double when 1 then -('nan'::double) when 2 then 'inf'::double when 3 then '-inf'::double when 4 then '-0.0'::double when 5 then 5e-324 else i / 7.0 end")} as f_float,
  ${nul('i % 3 = 0')} as f_bool,
  ${nul(pick(STRINGS))} as f_text,
  ${nul("timestamp '2262-04-11 23:47:16' - to_seconds(i * 86400 * 365)")} as f_when,
  ${nul('[i, null, i + 1]::bigint[]')} as f_list,
  ${nul('(i * 3)::integer')} as f_small,
  ${nul('(i / 3.0)::float')} as f_single,
  ${nul("date '2000-01-01' + i::integer")} as f_day
from range(${ROWS}) t(i)
order by i`;

const FEATURES: ViewLayout['features'] = [
  { name: 'f_int', type: { type: 'int64' } },
  { name: 'f_float', type: { type: 'float64' } },
  { name: 'f_bool', type: { type: 'boolean' } },
  { name: 'f_text', type: { type: 'string' } },
  { name: 'f_when', type: { type: 'timestamp' } },
  { name: 'f_list', type: { type: 'array', elementType: { type: 'int64' } } },
  { name: 'f_small', type: { type: 'int64' } },
  { name: 'f_single', type: { type: 'float64' } },
  { name: 'f_day', type: { type: 'timestamp' } },
];

function rowsOf(batch: ColumnBatch, keys: string[], created: boolean): ColumnRows {
  const at = (n: string) => batch.names.indexOf(n);
  return {
    batch,
    keys: keys.map(at),
    ts: at('ts'),
    created: created ? at('created') : undefined,
    features: FEATURES.map((f) => at(f.name)),
    tsWhat: "test: timestamp 'ts'",
    createdWhat: "test: created_timestamp 'created'",
  };
}

function bytes(write: (w: AsciiWriter) => void): string {
  const w = new AsciiWriter();
  write(w);
  return w.toString();
}

function same(a: Value, b: Value): boolean {
  if (a instanceof Timestamp && b instanceof Timestamp) return a.micros === b.micros;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return Object.is(a, b);
}

test('column batches read as values equal the rows of wh.stream, cell by cell', async () => {
  const wh = await DuckDbWarehouse.open(TARGET);
  try {
    const rows: Row[] = [];
    for await (const chunk of wh.stream(QUERY)) rows.push(...chunk);
    let r = 0;
    for await (const batch of wh.streamColumns(QUERY)) {
      for (let i = 0; i < batch.rows; i++, r++) {
        batch.names.forEach((name, c) => assert.ok(same(valueAt(batch.columns[c], i), rows[r][name]), `row ${r}, column ${name}: ${String(valueAt(batch.columns[c], i))} vs ${String(rows[r][name])}`));
      }
    }
    assert.equal(r, ROWS);
  } finally {
    await wh.close();
  }
});

const LAYOUTS: { layout: ViewLayout; keys: string[]; created: boolean }[] = [
  { layout: { view: 'one_key', joinKeys: [{ name: 'k', type: { type: 'string' } }], features: FEATURES, ttlSeconds: 86400 * 30 }, keys: ['k'], created: true },
  { layout: { view: 'two_keys', joinKeys: [{ name: 'k', type: { type: 'string' } }, { name: 'k2', type: { type: 'int64' } }], features: FEATURES }, keys: ['k', 'k2'], created: false },
  { layout: { view: 'int_key', joinKeys: [{ name: 'k2', type: { type: 'int64' } }], features: FEATURES, ttlSeconds: 1.5 }, keys: ['k2'], created: true },
  { layout: { view: 'value_key', joinKeys: [{ name: 'k3', type: { type: 'int64' } }], features: FEATURES }, keys: ['k3'], created: false },
];

for (const { layout, keys, created } of LAYOUTS) {
  test(`Redis bytes from columns equal the row writers' (${layout.view})`, async () => {
    const wh = await DuckDbWarehouse.open(TARGET);
    try {
      let r = 0;
      let withKey = 0;
      for await (const batch of wh.streamColumns(QUERY)) {
        const cr = rowsOf(batch, keys, created);
        const fast: RowSource = columnSource(layout, cr);
        const reference = rowSource(layout, toOnlineRows(layout, cr));
        assert.equal(fast.length, reference.length);
        for (let i = 0; i < batch.rows; i++, r++) {
          const where = `row ${r}`;
          assert.equal(fast.hasKey(i), reference.hasKey(i), where);
          assert.equal(fast.expiry(i), reference.expiry(i), where);
          assert.equal(bytes((w) => fast.writeStored(w, i)), bytes((w) => reference.writeStored(w, i)), where);
          if (!reference.hasKey(i)) continue;
          withKey++;
          assert.equal(bytes((w) => fast.writeEntity(w, i)), bytes((w) => reference.writeEntity(w, i)), where);
        }
      }
      assert.equal(r, ROWS);
      assert.ok(withKey > ROWS / 2);
    } finally {
      await wh.close();
    }
  });
}
