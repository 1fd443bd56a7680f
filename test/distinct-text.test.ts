/**
 * C's distinct values as a warehouse's JSON text (online/aggregate/distinct-text.ts): kept as text
 * only when it is what the state stores for them, and then read exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistinctText, distinctStrings } from '../src/online/aggregate/distinct-text.js';

test('JSON text is kept as it is only when compact, plain printable ASCII and strictly ascending', () => {
  for (const text of ['[]', '["a"]', '["","a","a b","b"]', '["!x",",","[","]"]', '["M0","m0","m1"]']) {
    const kept = DistinctText.of(text);
    assert.ok(kept, text);
    assert.equal(kept.text, text);
    assert.equal(kept.length, (JSON.parse(text) as string[]).length, text);
  }
  const others = [
    '["b","a"]', // descending: a collation's order, say
    '["a","a"]', // not distinct
    '["a!","a"]', // in JSON's order, not the values' ('!' sorts before the closing quote)
    '["a", "b"]', // spaced (PostgreSQL's json_agg)
    '["a\\"b"]', // an escape
    '["\\u00fc"]',
    '["ü"]', // non-ASCII
    '["a\\tb"]',
    '["a",]',
    '[,"a"]',
    '["a"',
    '"a"]',
    '[["a"]]',
    '[1,2]',
    '',
  ];
  for (const text of others) assert.equal(DistinctText.of(text), undefined, text);
});

test('membership is exact, also for values that hold what separates values in the text', () => {
  const values = ['', ' ', ',', ',,', '[', ']', 'a', 'a,', 'ab', 'b'].sort();
  const kept = DistinctText.of(JSON.stringify(values))!;
  assert.ok(kept);
  for (const v of [...values, 'a,b', ',b', 'aa', 'c', '"', ' a']) assert.equal(kept.has(v), values.includes(v), JSON.stringify(v));
  assert.equal(kept.has(1), false);
  assert.equal(kept.has(null), false);
  // the separator between two values is not a value
  const two = DistinctText.of('[",b","a,"]')!;
  assert.ok(two);
  assert.equal(two.has(','), false);
  assert.equal(two.has(',b'), true);
});

test('any other text is parsed and sorted in JavaScript\'s order, and refused when it is not an array of strings', () => {
  assert.deepEqual(distinctStrings('["b", "a", "ü", "a\\"b", "M"]'), ['M', 'a', 'a"b', 'b', 'ü']);
  assert.deepEqual(distinctStrings('[]'), []);
  assert.throws(() => distinctStrings('[1]'), /not a JSON array of strings/);
  assert.throws(() => distinctStrings('{"a":1}'), /not a JSON array of strings/);
});
