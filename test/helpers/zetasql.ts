/**
 * For tests that run BigQuery SQL on ZetaSQL beside DuckDB: when to skip, DuckDB tables as ZetaSQL
 * tables (the same inputs on both engines), and a row comparison that names the first difference.
 */
import { binaryName } from '../../src/compiler/zetasql/server.js';
import type { ZetaTable } from '../../src/compiler/zetasql/client.js';
import type { ZetaValue } from '../../src/compiler/zetasql/values.js';
import type { RelationName } from '../../src/plans/relation.js';
import { Timestamp } from '../../src/values.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

/** Tests skip only where the package has no server build (it runs on x64 and arm64 Linux and macOS). */
export const ZETASQL_SKIP: string | false = binaryName() ? false : `ZetaSQL's server has no build for ${process.platform}-${process.arch}`;

/** A DuckDB table's columns and rows, as the ZetaSQL table `name`. */
export async function tableFromDuckDb(wh: Warehouse, relation: RelationName, name: string): Promise<ZetaTable> {
  const columns = await wh.describe(relation);
  if (!columns) throw new Error(`no DuckDB table ${relation.name}`);
  const rows = await wh.query(`select * from ${wh.dialect.relation(relation)}`);
  return { name, columns: columns.map((c) => ({ name: c.name, type: c.type.type === 'array' ? `array<${c.type.elementType?.type}>` : c.type.type })), rows };
}

type AnyRow = Record<string, ZetaValue>;

/** A value for comparing: numbers of any kind as numbers, timestamps as ISO text. */
function canon(v: ZetaValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return v.map(canon);
  return v;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

const show = (row: unknown) => JSON.stringify(row);
/** A sort key that float noise in the last digits does not move. */
const sortKey = (row: unknown) => JSON.stringify(row, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(9)) : v));

/**
 * The first difference between two results (column names and order, row count, values; floats to
 * nine significant digits), or undefined. Unordered results are compared sorted.
 */
export function diffRows(got: AnyRow[], expected: AnyRow[], opts: { ordered: boolean }): string | undefined {
  const names = (rows: AnyRow[]) => (rows[0] ? Object.keys(rows[0]).join(', ') : '');
  if (got.length > 0 && expected.length > 0 && names(got) !== names(expected)) return `columns (${names(got)}) instead of (${names(expected)})`;
  if (got.length !== expected.length) return `${got.length} rows instead of ${expected.length}`;
  const prepare = (rows: AnyRow[]) => {
    const out = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, canon(v)])));
    return opts.ordered ? out : out.sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
  };
  const [g, e] = [prepare(got), prepare(expected)];
  for (let i = 0; i < g.length; i++) {
    const bad = Object.keys(e[i]).filter((k) => !sameValue(g[i][k], e[i][k]));
    if (bad.length > 0) return `row ${i}: ${bad.map((k) => `${k} = ${show(g[i][k])}, expected ${show(e[i][k])}`).join('; ')}\n  got      ${show(g[i])}\n  expected ${show(e[i])}`;
  }
  return undefined;
}
