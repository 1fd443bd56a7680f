/**
 * The expression language read as SQL reads it: precedence and associativity, the forms of CASE,
 * BETWEEN, IN and IS, literals, and the rules of expressions/evaluate.ts on chosen values (the
 * differential test holds every engine to the evaluator; this holds the evaluator to the SPEC).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { typeSelect, type Resolver } from '../src/expressions/check.js';
import { compileEvaluator } from '../src/expressions/evaluate.js';
import { ExpressionError } from '../src/expressions/lexer.js';
import { parseSelectList } from '../src/expressions/parser.js';
import type { ExprType } from '../src/expressions/tree.js';
import { Timestamp, type Value } from '../src/values.js';

const FIELDS: Record<string, [ExprType, Value]> = {
  x: ['int64', 5n],
  y: ['float64', 2.5],
  s: ['string', 'héllo 😀'],
  b: ['boolean', true],
  n: ['int64', null],
  t: ['timestamp', Timestamp.parse('2024-03-03T17:45:00Z')!],
};
const resolve: Resolver = (use) => {
  const f = FIELDS[use.name];
  if (!f || use.qualifier) throw new ExpressionError(use.pos, `unknown name '${use.name}'`);
  return { name: use.name, type: f[0] };
};

function run(expr: string): [Value, ExprType] {
  const typed = typeSelect(parseSelectList(`select ${expr} as v`), resolve);
  const inputs = typed.inputs.map((i) => FIELDS[i.name][1]);
  return [compileEvaluator(typed.items[0].expr)(inputs), typed.items[0].type];
}
const value = (expr: string) => run(expr)[0];

test('precedence and associativity are SQL\'s', () => {
  assert.equal(value('1 - 2 - 3'), -4n);
  assert.equal(value('2 + 3 * 4'), 14n);
  assert.equal(value('-2 * 3'), -6n);
  assert.equal(value('- x % 3'), -2n);
  assert.equal(value('12 / 3 / 2'), 2);
  assert.equal(value("'a' || 'b' = 'ab'"), true);
  assert.equal(value("'n' || cast(1 + 2 as string) = 'n3'"), true);
  assert.throws(() => value("'n' || 1 + 2"), /column 15: \|\| needs string here, but this operand is int64/, '+ binds tighter than ||');
  assert.equal(value('not 1 = 2'), true);
  assert.equal(value('true or false and false'), true);
  assert.equal(value('x between 1 and 5 and b'), true);
  assert.equal(value('x not between 6 and 9'), true);
  assert.equal(value('x not in (1, 2)'), true);
  assert.equal(value('x in (1, n)'), null);
  assert.equal(value('n is null and x is not null'), true);
});

test('CASE, COALESCE, NULLIF and the NULL rules', () => {
  assert.equal(value("case x when 4 then 'four' when 5 then 'five' else 'other' end"), 'five');
  assert.equal(value("case when x > 9 then 'big' end"), null);
  assert.equal(value('coalesce(n, x * 2)'), 10n);
  assert.equal(value('nullif(x, 5)'), null);
  assert.equal(value('n + 1'), null);
  assert.equal(value('false and n = 1'), false);
  assert.equal(value('true or n = 1'), true);
  assert.equal(value('least(x, n)'), null);
  assert.equal(value('greatest(x, y)'), 5);
});

test('numbers: float division, NULL for division by zero, domain errors and int64 overflow, half away from zero', () => {
  assert.deepEqual(run('7 / 2'), [3.5, 'float64']);
  assert.deepEqual(run('x % 3'), [2n, 'int64']);
  assert.equal(value('x / 0'), null);
  assert.equal(value('x % 0'), null);
  assert.equal(value('sqrt(-1)'), null);
  assert.equal(value('ln(0)'), null);
  assert.equal(value('power(0, -1)'), null);
  assert.equal(value('power(-8, 1.0 / 3)'), null);
  assert.equal(value('9223372036854775807 + 1'), null);
  assert.equal(value('-9223372036854775808 - 1'), null);
  assert.equal(value('abs(-9223372036854775808)'), null);
  assert.equal(value('3037000500 * 3037000500'), null);
  assert.equal(value('1e308 * 10'), null);
  assert.deepEqual([value('round(2.5)'), value('round(-2.5)'), value('round(0.49999999999999994)'), value('round(y)')], [3, -3, 0, 3]);
  assert.deepEqual([value('cast(2.5 as int64)'), value('cast(-3.5 as int64)'), value('cast(1e19 as int64)')], [3n, -4n, null]);
  assert.deepEqual([value("cast('+12' as int64)"), value("cast(' 12' as int64)"), value("cast('99999999999999999999' as int64)")], [12n, null, null]);
  assert.deepEqual([value('x + y'), run('x + y')[1]], [7.5, 'float64']);
});

test('strings are code points: length, substr, ordering; lower and upper change ASCII letters only', () => {
  assert.equal(value('length(s)'), 7n);
  assert.equal(value('substr(s, 2, 3)'), 'éll');
  assert.equal(value('substr(s, 7)'), '😀');
  assert.equal(value('substr(s, 0, 2)'), null);
  assert.equal(value('upper(s)'), 'HéLLO 😀');
  assert.equal(value("lower('ÀBC')"), 'Àbc');
  assert.equal(value("'\uffff' < '😀'"), true, 'code point order, not UTF-16 order');
  assert.equal(value("'B' < 'a'"), true, 'no locale collation');
  assert.equal(value("concat(s, n_str)".replace('n_str', "cast(n as string)")), null);
});

test('extract reads UTC; dayofweek is 1 (Sunday) to 7', () => {
  assert.deepEqual(['hour', 'day', 'month', 'dayofweek'].map((f) => value(`extract(${f} from t)`)), [17n, 3n, 3n, 1n]);
});

test('errors carry the line and column of the offending token', () => {
  const at = (text: string) => {
    try {
      typeSelect(parseSelectList(text), resolve);
    } catch (e) {
      return `${(e as ExpressionError).pos.line}:${(e as ExpressionError).pos.column} ${(e as ExpressionError).detail}`;
    }
    return 'no error';
  };
  assert.equal(at('select\n  x +\n    z as v'), "3:5 unknown name 'z'");
  assert.equal(at('select x as v,\n  s * 2 as w'), "2:3 '*' takes numbers, not string ('s').");
  assert.equal(at("select case when x then 1 end as v"), '1:18 CASE WHEN needs boolean here, but \'x\' is int64.');
  assert.equal(at('select x as v\nfrom t'), '2:1 an on-demand view has no FROM: its expressions read request fields by name and stored features as <view>.<feature>.');
});
