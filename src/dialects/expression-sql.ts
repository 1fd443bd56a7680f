/**
 * SQL for the typed expressions of on-demand views (expressions/tree.ts), with the semantics
 * written down in expressions/evaluate.ts. The rules are standard SQL over guards (CASE on the
 * operands), the same text on every warehouse; what differs is a Dialect member
 * (`checkedInt64`, `int64FromText`, `extractPart`, `binaryOrder`, `castTo`, literals).
 *
 * Guards read their operands several times, so an operand is never a subexpression: every node
 * is a column of its own, computed in layers (`select *, <nodes of height k> from (<layer k-1>)`),
 * and a node reads its children by column name. The SQL grows with the number of nodes, not
 * exponentially with their depth.
 */
import { EXP_MAX, EXP_MIN, FLOAT_MAX, FLOAT_MIN_NORMAL, POWER_MAX_EXPONENT, type Typed } from '../expressions/tree.js';
import type { Dialect } from './dialect.js';

/** One layer's new columns: [name, SQL]. */
export type Layer = [string, string][];

export interface RenderedExpressions {
  /** columns to add in order, each layer over the previous one */
  layers: Layer[];
  /** per item, the SQL of its value over the last layer (a column name, or a literal) */
  outputs: string[];
}

/**
 * Renders expressions whose inputs are `input(slot)` (SQL over the base query's columns);
 * helper columns are named `<prefix><n>`.
 */
export function renderExpressions(exprs: Typed[], d: Dialect, input: (slot: number) => string, prefix: string): RenderedExpressions {
  const layers: Layer[] = [];
  let n = 0;
  const id = (c: string) => d.quoteIdent(c);
  const f = floatLiteral(d);
  /** The SQL that reads a node: a literal inline, else its column. Returns [sql, height]. */
  const visit = (t: Typed): [string, number] => {
    if (t.kind === 'literal') return [literal(d, t), 0];
    let sql: string;
    let height: number;
    if (t.kind === 'input') {
      const col = d.castTo(input(t.slot), t.type);
      sql = t.type === 'float64' ? `case when ${col} - ${col} = 0 then ${col} end` : col;
      height = 1;
    } else {
      const kids = children(t).map(visit);
      height = 1 + Math.max(0, ...kids.map((k) => k[1]));
      sql = nodeSql(t, kids.map((k) => k[0]), d, f);
    }
    const name = `${prefix}${++n}`;
    (layers[height - 1] ??= []).push([name, sql]);
    return [id(name), height];
  };
  const outputs = exprs.map((e) => visit(e)[0]);
  return { layers: layers.map((l) => l ?? []), outputs };
}

/** `base` (a SELECT) with the layers' columns added: a SELECT of every base column and helper column. */
export function layeredSelect(base: string, layers: Layer[], d: Dialect): string {
  let sql = base;
  layers.forEach((layer, i) => {
    if (layer.length === 0) return;
    sql = `select *, ${layer.map(([name, expr]) => `${expr} as ${d.quoteIdent(name)}`).join(', ')}\nfrom (\n${d.computedOnce(sql)}\n) as fsql_layer${i + 1}`;
  });
  return sql;
}

function children(t: Typed): Typed[] {
  switch (t.kind) {
    case 'literal': case 'input': return [];
    case 'toFloat': case 'neg': case 'not': case 'isNull': case 'cast': case 'extract': return [t.arg];
    case 'arith': case 'compare': return [t.left, t.right];
    case 'and': case 'or': case 'call': return t.args;
    case 'in': return [t.arg, ...t.list];
    case 'case': return [...t.whens.flatMap((w) => [w.when, w.then]), t.otherwise];
  }
}

const floatLiteral = (d: Dialect) => (x: number) => d.castTo(`'${String(x)}'`, 'float64');

function literal(d: Dialect, t: Extract<Typed, { kind: 'literal' }>): string {
  if (t.value === null) return d.castTo('null', t.type);
  if (typeof t.value === 'bigint') return d.castTo(String(t.value), 'int64');
  if (typeof t.value === 'number') return floatLiteral(d)(t.value);
  if (typeof t.value === 'string') return d.stringLiteral(t.value);
  return t.value ? 'true' : 'false';
}

/** One node over its children's SQL (column names or literals: cheap to repeat). */
function nodeSql(t: Typed, k: string[], d: Dialect, f: (x: number) => string): string {
  const [a, b] = k;
  switch (t.kind) {
    case 'literal': case 'input':
      throw new Error('leaves have no node SQL');
    case 'toFloat':
      return d.castTo(a, 'float64');
    case 'neg':
      return t.type === 'int64' ? d.checkedInt64('-', d.castTo('0', 'int64'), a) : `(- ${a})`;
    case 'arith':
      if (t.type === 'int64') return t.op === '%' ? `mod(${a}, case when ${b} = -1 then ${d.castTo('1', 'int64')} else nullif(${b}, 0) end)` : d.checkedInt64(t.op as '+' | '-' | '*', a, b);
      return floatArith(t.op, a, b, f);
    case 'compare': {
      const order = t.left.type === 'string' && t.op !== '=' && t.op !== '<>';
      return `(${order ? d.binaryOrder(a) : a} ${t.op} ${order ? d.binaryOrder(b) : b})`;
    }
    case 'and': case 'or':
      return `(${a} ${t.kind} ${b})`;
    case 'not':
      return `(not ${a})`;
    case 'isNull':
      return `(${a} is ${t.negated ? 'not ' : ''}null)`;
    case 'in':
      return `(${a} ${t.negated ? 'not ' : ''}in (${k.slice(1).join(', ')}))`;
    case 'case': {
      const whens = t.whens.map((_w, i) => `when ${k[2 * i]} then ${k[2 * i + 1]}`);
      return `case ${whens.join(' ')} else ${k.at(-1)} end`;
    }
    case 'cast':
      return castSql(t.arg.type, t.type, a, d, f);
    case 'extract':
      return d.castTo(d.extractPart(t.field, a), 'int64');
    case 'call':
      return callSql(t, k, d, f);
  }
}

function floatArith(op: string, a: string, b: string, f: (x: number) => string): string {
  const MAX = f(FLOAT_MAX);
  const MIN = f(FLOAT_MIN_NORMAL);
  const zero = f(0);
  switch (op) {
    case '+':
      return `case when ((${a} > 0 and ${b} > 0) or (${a} < 0 and ${b} < 0)) and abs(${a}) > ${MAX} - abs(${b}) then null else ${a} + ${b} end`;
    case '-':
      return `case when ((${a} > 0 and ${b} < 0) or (${a} < 0 and ${b} > 0)) and abs(${a}) > ${MAX} - abs(${b}) then null else ${a} - ${b} end`;
    case '*':
      return (
        `case when ${a} = 0 or ${b} = 0 then ${a} * ${b} ` +
        `when abs(${a}) >= 1 and abs(${b}) >= 1 then case when abs(${a}) > ${MAX} / abs(${b}) then null else ${a} * ${b} end ` +
        `when abs(${a}) < 1 and abs(${b}) < 1 and abs(${a}) < ${MIN} / abs(${b}) then ${zero} else ${a} * ${b} end`
      );
    case '/':
      return (
        `case when ${b} = 0 then null when ${a} = 0 then ${a} / ${b} ` +
        `when abs(${b}) >= 1 then case when abs(${a}) < ${MIN} * abs(${b}) then ${zero} else ${a} / ${b} end ` +
        `when abs(${a}) > ${MAX} * abs(${b}) then null else ${a} / ${b} end`
      );
  }
  throw new Error(`no float64 operator ${op}`);
}

/** round half away from zero, exactly (|x| - floor(|x|) is exact). */
function roundSql(a: string): string {
  return `case when abs(${a}) - floor(abs(${a})) >= 0.5 then floor(abs(${a})) + 1 else floor(abs(${a})) end * case when ${a} < 0 then -1 else 1 end`;
}

function castSql(from: string, to: string, a: string, d: Dialect, f: (x: number) => string): string {
  switch (`${from}>${to}`) {
    case 'int64>float64': return d.castTo(a, 'float64');
    case 'int64>string': return d.castTo(a, 'string');
    case 'int64>boolean': return `(${a} <> 0)`;
    case 'float64>int64': {
      const r = `(${roundSql(a)})`;
      return `case when ${r} >= ${f(-(2 ** 63))} and ${r} < ${f(2 ** 63)} then ${d.castTo(r, 'int64')} end`;
    }
    case 'string>int64': return d.int64FromText(a);
    case 'boolean>int64': return `case when ${a} then ${d.castTo('1', 'int64')} when not ${a} then ${d.castTo('0', 'int64')} end`;
    case 'boolean>string': return `case when ${a} then 'true' when not ${a} then 'false' end`;
  }
  throw new Error(`no cast from ${from} to ${to}`);
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
/** Positions beyond any string's length (PostgreSQL's substr takes int4). */
const POSITION_CAP = 1000000000;

function callSql(t: Extract<Typed, { kind: 'call' }>, k: string[], d: Dialect, f: (x: number) => string): string {
  const [a, b, c] = k;
  const float = t.type === 'float64';
  const int = (x: string) => d.castTo(x, 'int64');
  switch (t.name) {
    case 'abs': return float ? `abs(${a})` : `case when ${a} = ${int('-9223372036854775808')} then null else abs(${a}) end`;
    case 'sign': return float ? `case when ${a} > 0 then ${f(1)} when ${a} < 0 then ${f(-1)} else ${a} end` : `case when ${a} > 0 then ${int('1')} when ${a} < 0 then ${int('-1')} when ${a} = 0 then ${int('0')} end`;
    case 'round': return float ? `(${roundSql(a)})` : a;
    case 'floor': return float ? `floor(${a})` : a;
    case 'ceil': return float ? `ceil(${a})` : a;
    case 'sqrt': return `sqrt(case when ${a} < 0 then null else ${a} end)`;
    case 'ln': return `ln(case when ${a} <= 0 then null else ${a} end)`;
    case 'exp': return `case when ${a} > ${f(EXP_MAX)} then null when ${a} < ${f(EXP_MIN)} then ${f(0)} else exp(${a}) end`;
    case 'power': {
      const l = `${b} * ln(abs(${a}))`;
      return (
        `case when ${a} is null or ${b} is null then null when abs(${b}) > ${f(POWER_MAX_EXPONENT)} then null when ${b} = 0 then ${f(1)} ` +
        `when ${a} = 0 then case when ${b} > 0 then ${f(0)} end when ${a} < 0 and ${b} <> floor(${b}) then null ` +
        `when ${l} > ${f(EXP_MAX)} then null when ${l} < ${f(EXP_MIN)} then ${f(0)} else power(${a}, ${b}) end`
      );
    }
    case 'least': case 'greatest': {
      const ordered = t.type === 'string' ? k.map((x) => d.binaryOrder(x)) : k;
      return `case when ${k.map((x) => `${x} is null`).join(' or ')} then null else ${t.name}(${ordered.join(', ')}) end`;
    }
    case 'lower': return `translate(${a}, '${UPPER}', '${LOWER}')`;
    case 'upper': return `translate(${a}, '${LOWER}', '${UPPER}')`;
    case 'length': return int(`length(${a})`);
    case 'substr': {
      const pos = (x: string) => `least(${x}, ${int(String(POSITION_CAP))})`;
      const guard = [`${b} >= 1`, ...(c ? [`${c} >= 0`] : [])].join(' and ');
      return `case when ${guard} then ${d.substring(a, pos(b), c && pos(c))} end`;
    }
    case 'concat': return `(${k.join(' || ')})`;
    case 'coalesce': return `coalesce(${k.join(', ')})`;
    case 'nullif': return `nullif(${a}, ${b})`;
  }
}
