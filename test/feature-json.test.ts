/**
 * online/feature-json.ts answers the HTTP API from the stored text; it must give exactly the JSON
 * text the typed path gives (decodeStored, then toJsonValue and JSON.stringify), for every type
 * and for the values at the edges of each; so must encode.ts valueJson, which writes typed values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStored, encodeStored } from '../src/online/codec.js';
import { toJsonValue, valueJson } from '../src/serving/encode.js';
import { featuresJson } from '../src/serving/feature-json.js';
import type { ViewLayout } from '../src/online/store.js';
import { seededRandom } from '../src/seeded-random.js';
import { Timestamp, type DataType, type Value } from '../src/values.js';

const array = (elementType: DataType): DataType => ({ type: 'array', elementType });
const INT: DataType = { type: 'int64' };
const FLOAT: DataType = { type: 'float64' };
const STRING: DataType = { type: 'string' };
const BOOL: DataType = { type: 'boolean' };
const TS: DataType = { type: 'timestamp' };

const LAYOUT: ViewLayout = {
  view: 'v',
  joinKeys: [{ name: 'k', type: STRING }],
  features: [
    { name: 'i', type: INT },
    { name: 'f', type: FLOAT },
    { name: 'b', type: BOOL },
    { name: 's', type: STRING },
    { name: 't', type: TS },
    { name: 'ai', type: array(INT) },
    { name: 'af', type: array(FLOAT) },
    { name: 'as', type: array(STRING) },
    { name: 'at', type: array(TS) },
    { name: 'ab', type: array(BOOL) },
    { name: 'aas', type: array(array(STRING)) },
    { name: 'aaf', type: array(array(FLOAT)) },
  ],
};

const INTS = [0n, 1n, -1n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n];
const FLOATS = [0, -0, 1.5, -2.25, 0.1 + 0.2, 1 / 3, 5e-324, -5e-324, 1.7976931348623157e308, 1e21, 1e-7, 123456789012345680000, NaN, Infinity, -Infinity];
const STRINGS = ['', 'u_1001', 'ünïcode', '日本語', '💥', '\ud800 lone', '"quoted" \\ back\\', '\\u00e9 not an escape', '\n\r\t\b\f\u0000\u001f\u007f', '\u2028\u2029', ']["},'];
const TIMESTAMPS = [0n, 1n, -1n, 1700000000123456n, 1700000000123000n, 1700000000000000n, -86400000001n, 253402300799999999n].map((m) => new Timestamp(m));

/** some features, out of layout order (as a service picks them): layout index -> answer position */
const SOME = [11, 3, 0, 6];
const SOME_SLOTS = LAYOUT.features.map((_f, i) => SOME.indexOf(i));

/** The typed path's text. */
function typedJson(v: Value): string {
  return JSON.stringify(toJsonValue(v));
}

function check(values: Record<string, Value>): void {
  const row = decodeStored(LAYOUT, encodeStored(LAYOUT, { key: ['x'], ts: new Timestamp(1n), values }));
  const direct: string[] = [];
  featuresJson(LAYOUT, row, LAYOUT.features.map((_f, i) => i), direct);
  LAYOUT.features.forEach((f, i) => assert.equal(direct[i], typedJson(row.values[f.name]), `${f.name}: ${JSON.stringify(values[f.name], (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`));
  const some: string[] = [];
  featuresJson(LAYOUT, row, SOME_SLOTS, some);
  assert.deepEqual(some, SOME.map((i) => direct[i]));
}

test('every edge value of every type: the same JSON text as the typed path', () => {
  const n = Math.max(INTS.length, FLOATS.length, STRINGS.length, TIMESTAMPS.length);
  for (let k = 0; k < n; k++) {
    check({
      i: INTS[k % INTS.length],
      f: FLOATS[k % FLOATS.length],
      b: k % 2 === 0,
      s: STRINGS[k % STRINGS.length],
      t: TIMESTAMPS[k % TIMESTAMPS.length],
      ai: [...INTS.slice(k % INTS.length), null],
      af: FLOATS.slice(0, k),
      as: [null, ...STRINGS.slice(k % STRINGS.length)],
      at: [TIMESTAMPS[k % TIMESTAMPS.length], null],
      ab: [true, null, false],
      aas: [[], null, STRINGS.slice(0, k % 4), [null, '[', ']']],
      aaf: [[NaN, null], [], null, [-0, Infinity]],
    });
  }
  check({});
  check({ ai: [], af: [], as: [], at: [], ab: [], aas: [], aaf: [] });
});

test('amounts (at most two decimals, written without the float rendering of V8): the same JSON text as the typed path', () => {
  const rand = seededRandom(11);
  const amounts = [0.01, -0.01, 0.1, 0.07, 1.05, 1.005, 10.5, 99.99, -123.4, 1e12 + 0.01, 9999999999999.99, 99999999999999.98, 1e15 - 1, 1e15, 2 ** 53, 0.3];
  for (let i = 0; i < 5000; i++) amounts.push(Math.round((rand() - 0.5) * 10 ** Math.floor(rand() * 16)) / 100);
  for (const f of amounts) check({ f, af: [f, -f] });
});

test('random values: the same JSON text as the typed path', () => {
  const rand = seededRandom(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const gen: Record<string, () => Value> = {
    int64: () => pick(INTS),
    float64: () => (rand() < 0.3 ? pick(FLOATS) : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20)),
    boolean: () => rand() < 0.5,
    string: () => Array.from({ length: Math.floor(rand() * 6) }, () => String.fromCharCode(Math.floor(rand() * (rand() < 0.7 ? 128 : 0xffff)))).join(''),
    timestamp: () => new Timestamp(BigInt(Math.floor((rand() - 0.3) * 4e15))),
  };
  const valueOf = (t: DataType): Value => (rand() < 0.15 ? null : t.type === 'array' ? Array.from({ length: Math.floor(rand() * 4) }, () => valueOf(t.elementType!)) : gen[t.type]());
  for (let n = 0; n < 2000; n++) check(Object.fromEntries(LAYOUT.features.map((f) => [f.name, valueOf(f.type)])));
});

test('valueJson (on-demand values, the feature log\'s keys and request fields): the same JSON text as the typed path', () => {
  const rand = seededRandom(5);
  const strings = Array.from({ length: 2000 }, () => Array.from({ length: Math.floor(rand() * 8) }, () => String.fromCharCode(Math.floor(rand() * (rand() < 0.7 ? 128 : 0xffff)))).join(''));
  const values: Value[] = [...INTS, ...FLOATS, ...STRINGS, ...strings, ...TIMESTAMPS, true, false, null, INTS, STRINGS, [FLOATS, []]];
  for (const v of values) assert.equal(valueJson(v), typedJson(v));
});
