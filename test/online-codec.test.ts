/**
 * The pure parts of the online store: typed value encoding, row ordering, key escaping and hash
 * slots, the LatestPerEntity SQL per dialect, and resolving a service against stored layouts.
 */
import type { RelationName } from '../src/plans/relation.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsciiWriter } from '../src/online/ascii-writer.js';
import { AGGREGATE_STATE, decodeFeatures, decodeStored, EncodedRow, encodeFeatures, encodeStored, fingerprintOf, hex64, LayoutMismatchError, sameLayout, sortKey, STATE_ENCODING, ValueTypeError } from '../src/online/codec.js';
import { toJsonValue } from '../src/serving/encode.js';
import { entityId, escapePart, hashSlot, RedisKeys } from '../src/online/keys.js';
import type { ViewLayout } from '../src/online/store.js';
import { parseJoinKeyMap } from '../src/online/join-keys.js';
import { planService } from '../src/online/vector.js';
import { renderLatestPerEntity } from '../src/dialects/latest-per-entity.js';
import { dialectFor } from '../src/dialects/index.js';
import { RequestError } from '../src/errors.js';
import { Timestamp, type Value } from '../src/values.js';

const LAYOUT: ViewLayout = {
  view: 'v',
  joinKeys: [{ name: 'user_id', type: { type: 'string' } }],
  features: [
    { name: 'i', type: { type: 'int64' } },
    { name: 'f', type: { type: 'float64' } },
    { name: 'b', type: { type: 'boolean' } },
    { name: 's', type: { type: 'string' } },
    { name: 't', type: { type: 'timestamp' } },
    { name: 'ai', type: { type: 'array', elementType: { type: 'int64' } } },
    { name: 'af', type: { type: 'array', elementType: { type: 'float64' } } },
    { name: 'aa', type: { type: 'array', elementType: { type: 'array', elementType: { type: 'string' } } } },
  ],
  ttlSeconds: 60,
};

test('every type survives a round trip exactly: int64 as bigint, float64 to the bit, UTC microseconds, nested arrays', () => {
  const cases: Record<string, Value>[] = [
    { i: 9223372036854775807n, f: 0.1 + 0.2, b: true, s: 'ünïcode "quoted" \\ {}', t: new Timestamp(-1n), ai: [1n, null, -9223372036854775808n], af: [NaN, -0, Infinity], aa: [['a'], [], null] },
    { i: -9223372036854775808n, f: -Infinity, b: false, s: '', t: new Timestamp(1795317823154321n), ai: [], af: [5e-324], aa: [] },
    { i: null, f: NaN, b: null, s: null, t: null, ai: null, af: null, aa: null },
    { i: 0n, f: -0, b: true, s: 'x', t: Timestamp.parse('1969-07-20T20:17:40.123456Z')!, ai: [0n], af: [1.7976931348623157e308], aa: [['', 'b']] },
  ];
  for (const values of cases) {
    const back = decodeFeatures(LAYOUT, encodeFeatures(LAYOUT, values));
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'number') assert.ok(Object.is(back[k], v), `${k}: ${String(back[k])} !== ${v}`);
      else assert.deepEqual(back[k], v, k);
    }
    assert.equal(typeof back.i, values.i === null ? 'object' : 'bigint');
  }
  assert.doesNotMatch(encodeFeatures(LAYOUT, cases[0]), /[^\x00-\x7f]/, 'stored text is ASCII (non-ASCII as JSON escapes)');
  const ts = new Timestamp(1700000000123456n);
  const created = new Timestamp(1700000000000001n);
  const stored = decodeStored(LAYOUT, encodeStored(LAYOUT, { key: ['u'], ts, created, values: cases[1] }));
  assert.equal(stored.ts.micros, ts.micros);
  assert.equal(stored.created?.micros, created.micros);
  assert.equal(decodeStored(LAYOUT, encodeStored(LAYOUT, { key: ['u'], ts, values: cases[1] })).created, undefined);
});

test('values are coerced to the declared type or refused with the feature named', () => {
  const back = decodeFeatures(LAYOUT, encodeFeatures(LAYOUT, { i: '42', f: 3n, s: 7, t: '2024-01-02T03:04:05.000006Z', ai: [1, '2'] }));
  assert.deepEqual([back.i, back.f, back.s, (back.t as Timestamp).toISOString(), back.ai], [42n, 3, '7', '2024-01-02T03:04:05.000006Z', [1n, 2n]]);
  assert.throws(() => encodeFeatures(LAYOUT, { i: 1.5 }), (e: Error) => e instanceof ValueTypeError && /feature 'i' of view 'v'.*int64/.test(e.message));
  assert.throws(() => encodeFeatures(LAYOUT, { i: '9223372036854775808' }), ValueTypeError);
  assert.throws(() => encodeFeatures(LAYOUT, { b: 'yes' }), ValueTypeError);
  assert.throws(() => encodeFeatures(LAYOUT, { t: 'tomorrow' }), ValueTypeError);
  assert.throws(() => encodeFeatures(LAYOUT, { ai: 5n }), ValueTypeError);
});

test('a row written with other features is refused, not misread', () => {
  const text = encodeFeatures(LAYOUT, { i: 1n });
  const other: ViewLayout = { ...LAYOUT, features: [...LAYOUT.features.slice(1), LAYOUT.features[0]] };
  assert.throws(() => decodeFeatures(other, text), LayoutMismatchError);
});

test("an aggregate view's fingerprint names its states' encoding: a state stored before the encoding changed is refused, not misread, and a sync finds the layout changed", () => {
  const features = [{ name: 'n_1d', type: { type: 'int64' as const } }];
  const plain: ViewLayout = { view: 'a', joinKeys: LAYOUT.joinKeys, features };
  const aggregate: ViewLayout = { ...plain, aggregate: { horizonSeconds: 3600, inputs: [], features: [{ name: 'n_1d', function: 'count', column: '*', windowSeconds: 86400 }], encoding: STATE_ENCODING } };
  // before, an aggregate layout's fingerprint named its features only, as a plain view's does
  assert.notEqual(fingerprintOf(aggregate), fingerprintOf(plain));
  const old = `${fingerprintOf(plain)}[1710028800000000,[[0,[],[],[],[]]],[]]\n[[]]`;
  assert.throws(() => new EncodedRow(aggregate, new Timestamp(0n), undefined, old, 0), LayoutMismatchError);
  const text = encodeFeatures(aggregate, { [AGGREGATE_STATE]: 'state' });
  assert.equal(new EncodedRow(aggregate, new Timestamp(0n), undefined, text, 0).text, text);
  // a layout stored by a build that wrote another encoding (or none named) is not the same layout: sync writes every state again
  const { encoding: _e, ...before } = aggregate.aggregate!;
  assert.equal(sameLayout(aggregate, { ...aggregate, aggregate: before as typeof aggregate.aggregate & {} }), false);
  assert.equal(sameLayout(aggregate, { ...aggregate, aggregate: { ...aggregate.aggregate!, encoding: 'state-bytes-0' } }), false);
  assert.equal(sameLayout(aggregate, structuredClone(aggregate)), true);
});

test('integers and hex are written as String() and toString(16) write them, across the 32-bit and 2^53 edges', () => {
  const ints = [0, 1, 9, 10, 99, 100, 999999999, 1e9, 2147483647, 2147483648, 4294967295, 4294967296, 1e15, 2 ** 53 - 1, 2 ** 53];
  for (const n of [...ints, ...ints.map((n) => -n)]) {
    const w = new AsciiWriter();
    w.int(n);
    assert.equal(w.toString(), String(n === 0 ? 0 : n));
  }
  for (const n of [0, 1, 15, 16, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff]) {
    const w = new AsciiWriter();
    w.hex32(n);
    assert.equal(w.toString(), n.toString(16).padStart(8, '0'));
  }
});

test('the 32-character sort key orders rows exactly as (ts, created) do, with no created lowest', () => {
  const micros = [-(1n << 63n) + 1n, -86400000000n, -1n, 0n, 1n, 4503599627370495n, 4503599627370496n, 1795317823154000n, (1n << 63n) - 1n];
  for (const v of micros) assert.equal(hex64(v), (v + (1n << 63n)).toString(16).padStart(16, '0'));
  // Decoding reads the same numbers back, on both sides of its fast path (|v| < 2^53).
  const edges = [...micros, -(1n << 53n) - 1n, -(1n << 53n), -(1n << 53n) + 1n, (1n << 53n) - 1n, 1n << 53n, -(1n << 32n), (1n << 32n) - 1n, 1n << 32n];
  for (const v of edges) {
    const back = decodeStored(LAYOUT, encodeStored(LAYOUT, { key: ['u'], ts: new Timestamp(v), created: new Timestamp(-v), values: {} }));
    assert.deepEqual([back.ts.micros, back.created?.micros], [v, -v], `${v}`);
  }
  const rows: { ts: Timestamp; created?: Timestamp }[] = [];
  for (const t of micros) {
    rows.push({ ts: new Timestamp(t) });
    for (const c of [-5n, 0n, 7n]) rows.push({ ts: new Timestamp(t), created: new Timestamp(c) });
  }
  const cmp = (a: { ts: Timestamp; created?: Timestamp }, b: typeof a) =>
    a.ts.micros !== b.ts.micros ? (a.ts.micros < b.ts.micros ? -1 : 1) : (a.created?.micros ?? -(1n << 63n)) < (b.created?.micros ?? -(1n << 63n)) ? -1 : (a.created?.micros ?? -(1n << 63n)) > (b.created?.micros ?? -(1n << 63n)) ? 1 : 0;
  for (const a of rows) {
    for (const b of rows) {
      const byKey = sortKey(a.ts, a.created) < sortKey(b.ts, b.created) ? -1 : sortKey(a.ts, a.created) > sortKey(b.ts, b.created) ? 1 : 0;
      assert.equal(byKey, cmp(a, b));
    }
  }
});

test('keys: names and values are escaped, so separators in values never make two entities collide', () => {
  const two: ViewLayout = { view: 'v', joinKeys: [{ name: 'a', type: { type: 'string' } }, { name: 'b', type: { type: 'string' } }], features: [] };
  const ids = new Set([
    entityId(two, ['x,b=y', 'z']),
    entityId(two, ['x', 'y,b=z']),
    entityId(two, ['x}', '{y']),
    entityId(two, ['x', '}{y']),
    entityId(two, ['x:1', '2']),
    entityId(two, ['x', ':12']),
  ]);
  assert.equal(ids.size, 6);
  for (const id of ids) assert.doesNotMatch(id!, /[{}:*?[\]\s]/);
  assert.equal(entityId(two, ['x', null]), undefined, 'a NULL key matches nothing');
  const ints: ViewLayout = { view: 'v', joinKeys: [{ name: 'id', type: { type: 'int64' } }], features: [] };
  assert.equal(entityId(ints, [42n]), entityId(ints, ['42']));
  assert.equal(entityId(ints, [42]), 'id=42');
  assert.equal(escapePart('ü:{x}'), '%C3%BC%3A%7Bx%7D');
  const k = new RedisKeys({ project: 'fraud', target: 'prod:eu' });
  assert.equal(k.row('user_stats', 'user_id=u_1'), 'fsql:fraud:prod%3Aeu:r:user_stats:{user_id=u_1}');
  assert.notEqual(new RedisKeys({ project: 'a', target: 'b:c' }).layouts, new RedisKeys({ project: 'a:b', target: 'c' }).layouts);
});

test('hash slots match Redis Cluster (CRC16/XMODEM of the hash tag), so one entity shares a slot across views', () => {
  assert.equal(hashSlot('foo'), 12182);
  assert.equal(hashSlot('123456789'), 0x31c3 & 16383);
  assert.equal(hashSlot('{user1000}.following'), hashSlot('{user1000}.followers'));
  assert.equal(hashSlot('foo{bar}{zap}'), hashSlot('bar'));
  assert.equal(hashSlot('foo{{bar}}zap'), hashSlot('{bar'));
  const k = new RedisKeys({ project: 'p', target: 't' });
  assert.equal(hashSlot(k.row('view_a', 'user_id=u_1')), hashSlot(k.row('view_b', 'user_id=u_1')));
  assert.equal(hashSlot(k.row('view_a', 'user_id=u_1')), hashSlot('user_id=u_1'));
});

test('LatestPerEntity renders for DuckDB, BigQuery and Snowflake with the same meaning', () => {
  const plan = {
    view: 'v',
    joinKeys: ['user_id', 'merchant_id'],
    timestamp: 'event_ts',
    createdTimestamp: 'created_ts',
    features: ['amount'],
    columns: ['user_id', 'merchant_id', 'event_ts', 'created_ts', 'amount'],
    since: Timestamp.parse('2024-01-01T00:00:00Z'),
    until: Timestamp.parse('2024-02-01T12:30:00.5Z'),
  };
  const sql = (name: 'duckdb' | 'bigquery' | 'snowflake', table: RelationName) => renderLatestPerEntity({ ...plan, table }, dialectFor(name));
  assert.equal(
    sql('duckdb', { schema: 'main', name: 'v' }),
    `select "user_id", "merchant_id", "event_ts", "created_ts", "amount"
from "main"."v"
where "user_id" is not null
  and "merchant_id" is not null
  and "event_ts" is not null
  and "event_ts" >= timestamp '2024-01-01 00:00:00.000000'
  and "event_ts" <= timestamp '2024-02-01 12:30:00.500000'
qualify row_number() over (partition by "user_id", "merchant_id" order by "event_ts" desc, "created_ts" desc nulls last, hash("amount") desc) = 1`,
  );
  assert.equal(
    sql('bigquery', { database: 'acme', schema: 'features', name: 'v' }),
    `select \`user_id\`, \`merchant_id\`, \`event_ts\`, \`created_ts\`, \`amount\`
from \`acme.features.v\`
where \`user_id\` is not null
  and \`merchant_id\` is not null
  and \`event_ts\` is not null
  and \`event_ts\` >= timestamp '2024-01-01 00:00:00.000000+00'
  and \`event_ts\` <= timestamp '2024-02-01 12:30:00.500000+00'
qualify row_number() over (partition by \`user_id\`, \`merchant_id\` order by \`event_ts\` desc, \`created_ts\` desc nulls last, farm_fingerprint(to_json_string(struct(\`amount\` as _0))) desc) = 1`,
  );
  assert.equal(
    sql('snowflake', { database: 'analytics', schema: 'features', name: 'v' }),
    `select "USER_ID", "MERCHANT_ID", "EVENT_TS", "CREATED_TS", "AMOUNT"
from "ANALYTICS"."FEATURES"."V"
where "USER_ID" is not null
  and "MERCHANT_ID" is not null
  and "EVENT_TS" is not null
  and "EVENT_TS" >= '2024-01-01 00:00:00.000000'::timestamp_ntz
  and "EVENT_TS" <= '2024-02-01 12:30:00.500000'::timestamp_ntz
qualify row_number() over (partition by "USER_ID", "MERCHANT_ID" order by "EVENT_TS" desc, "CREATED_TS" desc nulls last, hash("AMOUNT") desc) = 1`,
  );
});

test('a service resolves against stored layouts: alphabetical features, join keys typed and checked', () => {
  const user: ViewLayout = { view: 'user_stats', joinKeys: [{ name: 'user_id', type: { type: 'int64' } }], features: [{ name: 'z_count', type: { type: 'int64' } }, { name: 'a_spend', type: { type: 'float64' } }] };
  const pair: ViewLayout = { view: 'pair', joinKeys: [{ name: 'user_id', type: { type: 'int64' } }, { name: 'merchant_id', type: { type: 'string' } }], features: [{ name: 'n', type: { type: 'int64' } }] };
  const plan = planService({ name: 'svc', features: [{ view: 'user_stats' }, { view: 'pair', features: ['n'] }] }, [user, pair]);
  assert.deepEqual(plan.features.map((f) => f.name), ['pair.n', 'user_stats.a_spend', 'user_stats.z_count']);
  assert.deepEqual(plan.joinKeys.map((k) => k.name), ['user_id', 'merchant_id']);
  const parse = (map: unknown) => parseJoinKeyMap(plan.joinKeys, map, 'params', plan.service);
  assert.deepEqual(parse({ user_id: '12', merchant_id: 7 }), [12n, '7']);
  assert.deepEqual(parse({ user_id: 12, merchant_id: null }), [12n, null]);
  assert.deepEqual(parse({ user_id: 12345678901234567890n - 10000000000000000000n, merchant_id: 'm' }), [2345678901234567890n, 'm']);
  const bad = (map: unknown, re: RegExp) => assert.throws(() => parse(map), (e: Error) => e instanceof RequestError && e.status === 400 && e.grpcCode === 3 && re.test(e.message));
  bad({ user_id: '1' }, /join key 'merchant_id' is missing/);
  bad({ user_id: '1', merchant_id: 'm', extra: 1 }, /unknown join key 'extra'/);
  bad({ user_id: 'u_1', merchant_id: 'm' }, /int64/);
  bad({ user_id: 1.5, merchant_id: 'm' }, /int64/);
  bad({ user_id: 2 ** 60, merchant_id: 'm' }, /decimal string/);
  bad({ user_id: { x: 1 }, merchant_id: 'm' }, /int64; send a decimal string/);
  bad({ user_id: 1, merchant_id: true }, /'merchant_id' is a string key; send a JSON string or number, not a boolean/);
  bad({ user_id: 1, merchant_id: ['m'] }, /not an array/);
  bad({ user_id: 1, merchant_id: { m: 1 } }, /not an object/);
  bad(['u'], /must be an object of join key names/);
  bad(JSON.parse('{"user_id": 1, "merchant_id": "m", "__proto__": 2}'), /unknown join key '__proto__'/);
  assert.throws(() => planService({ name: 'svc', features: [{ view: 'never' }] }, [user]), /view 'never' has never been synced.*fsql sync --select never/);
  assert.throws(() => planService({ name: 'svc', features: [{ view: 'pair', features: ['gone'] }] }, [pair]), /feature 'gone' of view 'pair' is not in the online store/);
});

test('JSON values: int64 as strings, non-finite floats as strings, timestamps ISO UTC', () => {
  assert.deepEqual(toJsonValue([9007199254740993n, NaN, -Infinity, 1.5, new Timestamp(1n), null, true]), ['9007199254740993', 'NaN', '-Infinity', 1.5, '1970-01-01T00:00:00.000001Z', null, true]);
});
