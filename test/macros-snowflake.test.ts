/**
 * Snowflake cannot run here: every built-in macro's Snowflake rendering is pinned to the table in
 * test/golden/snowflake/MACROS.md, whose rows say what Snowflake's documentation promises of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialectFor } from '../src/dialects/index.js';
import { Timestamp, type ScalarType } from '../src/values.js';
import { REPO_ROOT } from './helpers/project.js';

const d = dialectFor('snowflake');
const cast = (type: ScalarType) => (x: string) => d.castTo(x, type);
/** Each macro call of the table, as the template renders it (compiler/template.ts globals). */
const RENDER: Record<string, () => string> = {
  "safe_divide('a', 'b')": () => d.safeDivide('a', 'b'),
  "time_add('ts', '1d')": () => d.timeAdd('ts', 86400),
  "time_sub('ts', '90m')": () => d.timeSub('ts', 5400),
  "time_add('ts', '1.5s')": () => d.timeAdd('ts', 1.5),
  "seconds_between('a', 'b')": () => d.secondsBetween('a', 'b'),
  "rolling_window('u', 'ts', '7d')": () => d.rollingWindow('u', 'ts', 7 * 86400),
  "rolling_window('u', 'ts', '7d', 'before')": () => d.rollingWindow('u', 'ts', 7 * 86400, 'before'),
  "date_trunc('week', 'ts')": () => d.dateTrunc('week', 'ts'),
  "date_trunc('day', 'ts')": () => d.dateTrunc('day', 'ts'),
  "cast_as('x', 'int64')": () => cast('int64')('x'),
  "cast_as('x', 'float64')": () => cast('float64')('x'),
  "cast_as('x', 'string')": () => cast('string')('x'),
  "cast_as('x', 'boolean')": () => cast('boolean')('x'),
  "cast_as('x', 'timestamp')": () => cast('timestamp')('x'),
  "timestamp_literal('2024-01-01T00:00:00.000001Z')": () => d.timestampLiteral(Timestamp.parse('2024-01-01T00:00:00.000001Z')!),
  "quote('user_id')": () => d.quoteIdent('user_id'),
};

/** The table's rows: macro call and rendering, backticks stripped. */
function pinned(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'test', 'golden', 'snowflake', 'MACROS.md'), 'utf8');
  const rows = text.split('\n').filter((l) => l.startsWith('| `'));
  return new Map(rows.map((l) => l.split(' | ').slice(0, 2).map((cell) => cell.replace(/^\| /, '').replace(/^`|`$/g, '')) as [string, string]));
}

test('every macro renders for Snowflake exactly as test/golden/snowflake/MACROS.md pins it to the documentation', () => {
  const table = pinned();
  assert.deepEqual([...table.keys()].sort(), Object.keys(RENDER).sort(), 'the table and the test list the same macros');
  for (const [call, render] of Object.entries(RENDER)) assert.equal(render(), table.get(call), call);
});

test('safe_divide on Snowflake is not DIV0NULL (0 for a zero or NULL divisor) but NULL, as elsewhere', () => {
  assert.doesNotMatch(d.safeDivide('a', 'b'), /div0/i);
});
