/**
 * The on-demand expression language has one meaning (expressions/evaluate.ts): random expressions
 * over random edge-case inputs give the same results from the server's evaluator, from DuckDB,
 * from PostgreSQL (a real server) and from the BigQuery SQL on ZetaSQL. Exact operations (+ - * /
 * % sqrt abs sign round floor ceil casts comparisons strings) must agree bit for bit (-0 equals 0);
 * ln, exp and power come from each engine's libm and must agree within 1 ulp.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseForeign } from '../src/compiler/foreign-parse.js';
import { ZetaSqlClient } from '../src/compiler/zetasql/client.js';
import type { Dialect } from '../src/dialects/dialect.js';
import { layeredSelect, renderExpressions } from '../src/dialects/expression-sql.js';
import { dialectFor } from '../src/dialects/index.js';
import { typeSelect, type Resolver, type TypedItem } from '../src/expressions/check.js';
import { compileEvaluator } from '../src/expressions/evaluate.js';
import { parseSelectList } from '../src/expressions/parser.js';
import { Timestamp, type Row, type Value } from '../src/values.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { ExpressionGen, INPUTS } from './helpers/expression-cases.js';
import { openDuckDb } from './helpers/pit-cases.js';
import { createTestDatabase, openPostgres, type TestDatabase } from './helpers/postgres.js';
import { ZETASQL_SKIP } from './helpers/zetasql.js';

const EXACT = 2400;
const INEXACT = 400;
const ROWS = 48;
const BATCH = 80;

const resolve: Resolver = (use) => {
  const input = !use.qualifier && INPUTS.find((i) => i.name === use.name);
  if (!input) throw new Error(`unknown input ${use.qualifier ?? ''}.${use.name}`);
  return { name: input.name, type: input.type };
};

interface Case {
  source: string;
  item: TypedItem;
  /** per input slot, the index in INPUTS */
  columns: number[];
  /** per row, the evaluator's value */
  expected: Value[];
  inexact: boolean;
}

function makeCases(): { cases: Case[]; rows: Value[][]; untyped: number } {
  const gen = new ExpressionGen(20261207);
  const rows = Array.from({ length: ROWS }, () => gen.row());
  const sources: { source: string; inexact: boolean }[] = [];
  const types = ['int64', 'float64', 'string', 'boolean'] as const;
  for (let i = 0; i < EXACT; i++) sources.push({ source: gen.exact(types[i % 4], 4), inexact: false });
  for (let i = 0; i < INEXACT; i++) sources.push({ source: gen.inexact(3), inexact: true });
  const cases: Case[] = [];
  let untyped = 0;
  for (const { source, inexact } of sources) {
    let typed;
    try {
      typed = typeSelect(parseSelectList(`select ${source} as v`), resolve);
    } catch (e) {
      if (/cannot tell the type/.test((e as Error).message)) {
        untyped++;
        continue;
      }
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    const item = typed.items[0];
    const columns = typed.inputs.map((inp) => INPUTS.findIndex((i) => i.name === inp.name));
    const run = compileEvaluator(item.expr);
    const expected = rows.map((row) => run(columns.map((c) => row[c])));
    cases.push({ source, item, columns, expected, inexact });
  }
  return { cases, rows, untyped };
}

/** The SELECT of a batch over the engine's `inputs` table, rows in `rid` order. */
function batchSql(d: Dialect, batch: Case[], table: string): string {
  const slots: string[] = [];
  const exprs = batch.map((c) => {
    // each case's slots renumbered into one list of input columns
    const copy = structuredClone(c.item.expr);
    const seen = new Set<object>();
    const fix = (t: unknown): void => {
      if (t && typeof t === 'object' && !seen.has(t)) {
        seen.add(t);
        if ('kind' in t && t.kind === 'input' && 'slot' in t) {
          const name = INPUTS[c.columns[t.slot as number]].name;
          let s = slots.indexOf(name);
          if (s < 0) s = slots.push(name) - 1;
          t.slot = s;
        }
        Object.values(t).forEach(fix);
      }
    };
    fix(copy);
    return copy;
  });
  const r = renderExpressions(exprs, d, (slot) => d.quoteIdent(slots[slot]), '__x');
  const base = `select * from ${table}`;
  return `select rid, ${r.outputs.map((o, i) => `${o} as ${d.quoteIdent(`c${i}`)}`).join(', ')}\nfrom (\n${layeredSelect(base, r.layers, d)}\n) as fsql_out\norder by rid`;
}

function floatText(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function insertSql(d: Dialect, rows: Value[][], special: (v: number) => string): string {
  const lit = (v: Value, type: string): string => {
    if (v === null) return d.castTo('null', type as 'int64');
    if (type === 'float64') return Number.isFinite(v as number) ? d.castTo(`'${floatText(v as number)}'`, 'float64') : special(v as number);
    if (type === 'int64') return d.castTo(`'${v}'`, 'int64');
    if (type === 'string') return d.stringLiteral(v as string);
    if (type === 'timestamp') return d.timestampLiteral(v as Timestamp);
    return String(v);
  };
  return `insert into inputs values ${rows.map((row, i) => `(${i}, ${row.map((v, j) => lit(v, INPUTS[j].type)).join(', ')})`).join(',\n')}`;
}

const COLUMN_TYPES = (d: Dialect) => `rid ${d.name === 'postgres' ? 'bigint' : 'bigint'}, ${INPUTS.map((i) => `${i.name} ${d.name === 'postgres' ? PG_TYPES[i.type] : DUCK_TYPES[i.type]}`).join(', ')}`;
const PG_TYPES: Record<string, string> = { int64: 'bigint', float64: 'double precision', string: 'text', boolean: 'boolean', timestamp: 'timestamp' };
const DUCK_TYPES: Record<string, string> = { int64: 'bigint', float64: 'double', string: 'varchar', boolean: 'boolean', timestamp: 'timestamp' };

/** Distance in units in the last place between two doubles (0 for -0 and 0). */
function ulps(a: number, b: number): number {
  const buf = new DataView(new ArrayBuffer(16));
  const ordered = (x: number, at: number) => {
    buf.setFloat64(at, x === 0 ? 0 : x);
    const i = buf.getBigInt64(at);
    return i < 0n ? -(i & 0x7fffffffffffffffn) : i;
  };
  const d = ordered(a, 0) - ordered(b, 8);
  return Number(d < 0n ? -d : d);
}

function same(expected: Value, got: unknown, inexact: boolean): boolean {
  if (expected === null || got === null || got === undefined) return expected === null && (got === null || got === undefined);
  if (typeof expected === 'bigint') return (typeof got === 'bigint' || typeof got === 'number') && BigInt(got) === expected;
  if (typeof expected === 'number') return typeof got === 'number' && (inexact ? ulps(expected, got) <= 1 : expected === got);
  return expected === got;
}

const show = (v: unknown): string => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? '-0' : Array.isArray(v) ? `[${v.map(show).join(', ')}]` : v instanceof Timestamp ? v.toISOString() : JSON.stringify(v) ?? String(v));

/** Compares an engine's rows for a batch with the evaluator's; returns the differences found. */
function differences(engine: string, batch: Case[], rows: Value[][], got: Row[]): string[] {
  const out: string[] = [];
  if (got.length !== rows.length) return [`${engine}: ${got.length} rows, expected ${rows.length}`];
  batch.forEach((c, i) => {
    for (let r = 0; r < rows.length; r++) {
      const g = got[r][`c${i}`];
      if (!same(c.expected[r], g, c.inexact)) {
        out.push(`${engine}: ${c.source}\n  row ${show(rows[r])}: got ${show(g)}, evaluator ${show(c.expected[r])}`);
        return;
      }
    }
  });
  return out;
}

const { cases, rows, untyped } = makeCases();
const batches: Case[][] = [];
for (let i = 0; i < cases.length; i += BATCH) batches.push(cases.slice(i, i + BATCH));

test('the generator makes thousands of typed expressions that reach every kind of value', () => {
  assert.ok(cases.length >= 2600, `${cases.length} cases (${untyped} had no type)`);
  const all = cases.flatMap((c) => c.expected);
  const nulls = all.filter((v) => v === null).length;
  assert.ok(nulls > all.length * 0.1 && nulls < all.length * 0.7, `${nulls} NULLs of ${all.length}`);
  for (const t of ['int64', 'float64', 'string', 'boolean']) assert.ok(cases.filter((c) => c.item.type === t).length > 400, t);
  assert.ok(all.some((v) => v === 9223372036854775807n || v === -9223372036854775808n), 'int64 bounds reached');
  assert.ok(all.some((v) => typeof v === 'string' && /[^\x00-\x7f]/.test(v)), 'non-ASCII results');
});

describe('the server evaluator and DuckDB agree', () => {
  let duck: Warehouse;
  before(async () => {
    duck = await openDuckDb();
    const d = duck.dialect;
    await duck.execute(`create table inputs (${COLUMN_TYPES(d)})`);
    await duck.execute(insertSql(d, rows, (v) => `cast('${Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'}' as double)`));
  });
  after(() => duck?.close());
  test(`${EXACT} exact and ${INEXACT} libm expressions over ${ROWS} rows`, async () => {
    const diffs: string[] = [];
    for (const batch of batches) diffs.push(...differences('duckdb', batch, rows, await duck.query(batchSql(duck.dialect, batch, 'inputs'))));
    assert.deepEqual(diffs.slice(0, 10), []);
  });
});

describe('the server evaluator and PostgreSQL agree', () => {
  let db: TestDatabase;
  let pg: Warehouse;
  before(async () => {
    db = await createTestDatabase('fsql_expr');
    pg = await openPostgres(db);
    const d = pg.dialect;
    await pg.execute(`create table inputs (${COLUMN_TYPES(d)})`);
    await pg.execute(insertSql(d, rows, (v) => `cast('${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}' as double precision)`));
  });
  after(async () => {
    await pg?.close();
    await db?.drop();
  });
  test(`${EXACT} exact and ${INEXACT} libm expressions over ${ROWS} rows`, async () => {
    const diffs: string[] = [];
    for (const batch of batches) diffs.push(...differences('postgres', batch, rows, await pg.query(batchSql(pg.dialect, batch, 'inputs'))));
    assert.deepEqual(diffs.slice(0, 10), []);
  });
});

describe('the server evaluator and BigQuery SQL on ZetaSQL agree', { skip: ZETASQL_SKIP }, () => {
  let zeta: ZetaSqlClient;
  before(async () => {
    zeta = await ZetaSqlClient.start();
  });
  after(() => zeta?.close());
  test(`${EXACT} exact and ${INEXACT} libm expressions over ${ROWS} rows`, async () => {
    const d = dialectFor('bigquery');
    const table = {
      name: 'inputs',
      columns: [{ name: 'rid', type: 'int64' }, ...INPUTS.map((i) => ({ name: i.name, type: i.type }))],
      rows: rows.map((row, i) => [BigInt(i), ...row]),
    };
    const diffs: string[] = [];
    for (const batch of batches) {
      const result = await zeta.evaluate(batchSql(d, batch, 'inputs'), [table]);
      diffs.push(...differences('bigquery', batch, rows, result.rows as Row[]));
    }
    assert.deepEqual(diffs.slice(0, 10), []);
  });
});

test("Snowflake (no engine here): the SQL of the first 400 expressions parses in node-sql-parser's snowflake grammar", () => {
  const d = dialectFor('snowflake');
  const problems = cases.slice(0, 400).flatMap((c) => {
    const { error } = parseForeign(batchSql(d, [c], 'inputs'), 'snowflake');
    return error ? [`${c.source}: ${error.message}`] : [];
  });
  assert.deepEqual(problems.slice(0, 5), []);
});
