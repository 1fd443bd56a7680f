/**
 * Every built-in macro by value on a real PostgreSQL server: the probe view of
 * helpers/macro-probe.ts compiled for the example's `pg` target, run on its edge-case rows, must
 * give the values worked out by hand (the same table DuckDB and BigQuery on ZetaSQL are held to).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProject } from '../src/compiler/compile.js';
import { loadProject } from '../src/project/load.js';
import { Timestamp, type Row, type Value } from '../src/values.js';
import { EXPECTED_MACROS, MACRO_PROBE, MACRO_ROWS } from './helpers/macro-probe.js';
import { createTestDatabase, openPostgres } from './helpers/postgres.js';
import { copyExample } from './helpers/project.js';

/** As the expected table writes values: numbers as numbers, times as ISO text. */
function shown(v: Value): string | number | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Timestamp) return v.toISOString();
  return v as string | number;
}

test('the built-in macros give the expected values on PostgreSQL', async () => {
  const dir = copyExample();
  writeFileSync(join(dir, 'data', 'transactions.csv'), MACRO_ROWS);
  writeFileSync(join(dir, 'models', 'macro_probe.sql'), MACRO_PROBE);
  const db = await createTestDatabase();
  const wh = await openPostgres(db);
  try {
    await wh.execute('create schema raw');
    await wh.loadFile(join(dir, 'data', 'transactions.csv'), { schema: 'raw', name: 'transactions' });
    const project = loadProject({ projectDir: dir, target: 'pg' });
    // PostgreSQL casts a boolean to int4, not to bigint: cast_as(flag, 'int64') is an error there
    // (README: write case when flag then 1 else 0 end); the probe leaves that one column out here.
    const sql = (await compileProject(project)).manifest.views.macro_probe.compiled_sql.replace(/^.* as chargeback_int,\n/m, '');
    const rows: Row[] = await wh.query(sql);
    for (const [column, expected] of Object.entries(EXPECTED_MACROS).filter(([c]) => c !== 'chargeback_int')) {
      const got = rows.map((r) => shown(r[column]));
      expected.forEach((e, i) => {
        const g = got[i];
        const ok = typeof e === 'number' && typeof g === 'number' ? Math.abs(e - g) <= 1e-9 * Math.max(1, Math.abs(e)) : e === g;
        assert.ok(ok, `${column} row ${i}: PostgreSQL gives ${String(g)}, expected ${String(e)}\n${sql}`);
      });
    }
    // weeks start on Monday, as on DuckDB and (through ISOWEEK) BigQuery
    assert.deepEqual(rows.map((r) => shown(r.trunc_week)).slice(0, 2), ['2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z']);
  } finally {
    await wh.close();
    await db.drop();
  }
});
