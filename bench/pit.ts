/**
 * bench/pit: `fsql train` on 1M events against 3 feature views holding 10M rows (100k users).
 * Measured in the same run, on the same DuckDB file, with the same number of threads, runs
 * alternating (the machine may be shared; CPU time is reported beside wall time, as it is less
 * disturbed by other work):
 *  - fsql train: the real binary, from spawn to exit (Node start-up included), and the time it
 *    reports for its own work;
 *  - the floor: the same join written by hand as one DuckDB ASOF query, reading the events file
 *    directly, with the same pruning of feature rows, TTLs, created_timestamp tie-break and input
 *    order, so its output is identical to fsql's (checked);
 *  - Feast's offline-store shape: per view a range join of events to feature rows inside the TTL,
 *    ROW_NUMBER() to keep the latest, a join back, and a left join per view to the events. Its cost
 *    grows with (events x feature rows) per key, so it depends on the data's shape: here the
 *    merchant view (1,000 merchants) is what makes it slow; with only user-keyed views it is far
 *    closer to ASOF.
 * Targets: fsql <= 1.25x the floor; Feast-style >= 3x fsql; the fsql process's memory flat in the
 * number of rows: rows never enter JavaScript (the V8 heap is capped at 64 MB in the memory runs),
 * and DuckDB's buffers are bounded by its memory_limit (profile `settings:`), beyond which it
 * spills; peak RSS is reported for 1/10 and all of the events under that limit.
 * Run: npm run build && node dist/bench/pit.js [events] [feature rows] [users] [repeats]
 * (KEEP=1 keeps the generated project and database for a look afterwards.)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { differences, median, runFsql, THREADS, timeQuery, withDuckDb, type ProcessRun, type QueryRun } from './measure.js';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const ROWS = Number(process.argv[3] ?? 10_000_000);
const USERS = Number(process.argv[4] ?? 100_000);
const REPEATS = Number(process.argv[5] ?? 5);
const MERCHANTS = 1000;
const DAY_US = 86_400_000_000;
const MEMORY_LIMIT = '512MB';

/**
 * The three views of the example's fraud service, scaled up: per-transaction user statistics,
 * hourly merchant risk snapshots (recomputed, so rows tie on (merchant, hour) and loaded_at breaks
 * the tie), and user x merchant history. User keys are uniform over USERS; 1,000 merchants.
 */
const VIEWS = [
  { name: 'user_txn_stats', share: 0.5, keys: ['user_id'], ttl: 7, created: false, hourly: false, features: ['txn_count_7d', 'spend_7d', 'avg_amount_7d'] },
  { name: 'merchant_risk', share: 0.3, keys: ['merchant_id'], ttl: 3, created: true, hourly: true, features: ['risk_score', 'chargeback_rate'] },
  { name: 'user_merchant_pair', share: 0.2, keys: ['user_id', 'merchant_id'], ttl: 30, created: false, hourly: false, features: ['pair_count_30d'] },
];

function viewSql(v: (typeof VIEWS)[number], seed: number): string {
  const n = Math.round(ROWS * v.share);
  const h = (k: number) => `hash(i, ${seed * 10 + k})`;
  const ts = v.hourly ? `timestamp '2024-01-01' + to_microseconds((${h(2)} % ${120 * 24})::bigint * 3600000000)` : `timestamp '2024-01-01' + to_microseconds((${h(2)} % ${120 * DAY_US})::bigint)`;
  const cols = [
    ...(v.keys.includes('user_id') ? [`'u_' || (${h(0)} % ${USERS}) as user_id`] : []),
    ...(v.keys.includes('merchant_id') ? [`'m_' || (${h(1)} % ${MERCHANTS}) as merchant_id`] : []),
    // 120 days of history; the events cover the last 80 of them
    `${ts} as feature_ts`,
    ...(v.created ? [`${ts} + to_microseconds((${h(3)} % 7200000000)::bigint) as loaded_at`] : []),
    ...v.features.map((f, j) => `(${h(4 + j)} % 100000) / 100.0 as ${f}`),
  ];
  return `{{ config(entities=[${v.keys.map((k) => `'${k === 'user_id' ? 'user' : 'merchant'}'`).join(', ')}], timestamp='feature_ts'${v.created ? ", created_timestamp='loaded_at'" : ''}, ttl='${v.ttl}d') }}
select
  ${cols.join(',\n  ')}
from range(${n}) as t(i)
`;
}

function makeProject(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'fsql-bench-pit-')), 'bench');
  mkdirSync(join(dir, 'models'), { recursive: true });
  // lowmem: the same database with DuckDB's memory capped (it spills to disk beyond that)
  const output = (extra: string) => `      type: duckdb\n      path: target/bench.duckdb\n      threads: ${THREADS}\n${extra}`;
  writeFileSync(join(dir, 'profiles.yml'), `bench:\n  target: dev\n  outputs:\n    dev:\n${output('')}    lowmem:\n${output(`      settings: {memory_limit: ${MEMORY_LIMIT}}\n`)}`);
  writeFileSync(
    join(dir, 'models', 'schema.yml'),
    `entities:
  - name: user
    join_keys: [user_id]
  - name: merchant
    join_keys: [merchant_id]
feature_services:
  - name: bench
    features: [${VIEWS.map((v) => v.name).join(', ')}]
`,
  );
  VIEWS.forEach((v, i) => writeFileSync(join(dir, 'models', `${v.name}.sql`), viewSql(v, i + 1)));
  return dir;
}

async function writeEvents(path: string, count: number): Promise<void> {
  await withDuckDb(':memory:', (c) =>
    c.run(`copy (
      select 'e_' || i as event_id,
        'u_' || (hash(i, 101) % ${USERS}) as user_id,
        'm_' || (hash(i, 102) % ${MERCHANTS}) as merchant_id,
        timestamp '2024-02-10' + to_microseconds((hash(i, 103) % ${80 * DAY_US})::bigint) as event_timestamp,
        hash(i, 104) % 10 = 0 as label
      from range(${count}) as t(i)
    ) to '${path}' (format parquet)`),
  );
}

const q = (s: string) => `"${s}"`;

/**
 * The floor: one ASOF query, as a person who knows DuckDB would write it for the same result,
 * with the same pruning of feature rows to the events' time range.
 */
function handAsof(events: string, out: string): string {
  const ts = 'e.event_timestamp';
  const select: string[] = ['e.* exclude (file_row_number)'];
  const joins: string[] = [];
  // Feature rows that can matter, as fsql reads them: [first event - TTL, last event].
  const first = `(select min(event_timestamp) from read_parquet('${events}'))`;
  const last = `(select max(event_timestamp) from read_parquet('${events}'))`;
  const rows = (v: (typeof VIEWS)[number], extra = '') => `(select *${extra} from ${v.name} where feature_ts >= ${first} - interval ${v.ttl} day and feature_ts <= ${last})`;
  VIEWS.forEach((v, i) => {
    const a = `f${i}`;
    const valid = `${a}.feature_ts <= ${ts} and ${a}.feature_ts >= ${ts} - interval ${v.ttl} day`;
    for (const f of v.features) select.push(`case when ${valid} then ${a}.${f} end as ${q(`${v.name}__${f}`)}`);
    const eq = v.keys.map((k) => `e.${k} = ${a}.${k}`).join(' and ');
    if (v.created) {
      joins.push(`asof left join ${rows(v, ", {'t': feature_ts, 'c': coalesce(loaded_at, timestamp '-infinity')} as o")} as ${a}
  on ${eq} and {'t': ${ts}, 'c': timestamp 'infinity'} >= ${a}.o`);
    } else {
      joins.push(`asof left join ${rows(v)} as ${a} on ${eq} and ${ts} >= ${a}.feature_ts`);
    }
  });
  return `copy (
select ${select.join(',\n  ')}
from read_parquet('${events}', file_row_number = true) as e
${joins.join('\n')}
order by e.file_row_number
) to '${out}' (format parquet)`;
}

/** Feast's point-in-time template (BigQuery/Snowflake offline stores), in DuckDB SQL. */
function feastStyle(events: string, out: string): string {
  const ctes = [
    `entity_dataframe as (
  select *, event_timestamp as entity_timestamp,
    ${VIEWS.map((v) => `concat(${v.keys.join(', ')}, cast(event_timestamp as varchar)) as ${v.name}__entity_row_unique_id`).join(',\n    ')}
  from read_parquet('${events}')
)`,
  ];
  for (const v of VIEWS) {
    const id = `${v.name}__entity_row_unique_id`;
    const created = v.created ? 'loaded_at' : 'cast(null as timestamp)';
    ctes.push(
      `${v.name}__entity_dataframe as (
  select ${v.keys.join(', ')}, entity_timestamp, ${id} from entity_dataframe group by ${v.keys.join(', ')}, entity_timestamp, ${id}
)`,
      `${v.name}__subquery as (
  select feature_ts as event_timestamp, ${created} as created_timestamp, ${v.keys.join(', ')}, ${v.features.join(', ')}
  from ${v.name}
  where feature_ts <= (select max(entity_timestamp) from entity_dataframe)
    and feature_ts >= (select min(entity_timestamp) from entity_dataframe) - interval ${v.ttl} day
)`,
      `${v.name}__base as (
  select s.*, d.entity_timestamp, d.${id}
  from ${v.name}__subquery as s
  inner join ${v.name}__entity_dataframe as d
    on s.event_timestamp <= d.entity_timestamp
    and s.event_timestamp >= d.entity_timestamp - interval ${v.ttl} day
    and ${v.keys.map((k) => `s.${k} = d.${k}`).join(' and ')}
)`,
      `${v.name}__latest as (
  select ${id}, event_timestamp, created_timestamp from (
    select *, row_number() over (partition by ${id} order by event_timestamp desc, created_timestamp desc) as row_number
    from ${v.name}__base
  ) where row_number = 1
)`,
      `${v.name}__cleaned as (
  select base.* from ${v.name}__base as base
  inner join ${v.name}__latest using (${id}, event_timestamp${v.created ? ', created_timestamp' : ''})
)`,
    );
  }
  const select = ['e.* exclude (entity_timestamp, ' + VIEWS.map((v) => `${v.name}__entity_row_unique_id`).join(', ') + ')'];
  for (const v of VIEWS) for (const f of v.features) select.push(`${v.name}__cleaned.${f} as ${q(`${v.name}__${f}`)}`);
  return `copy (
with ${ctes.join(',\n')}
select ${select.join(',\n  ')}
from entity_dataframe as e
${VIEWS.map((v) => `left join ${v.name}__cleaned using (${v.name}__entity_row_unique_id)`).join('\n')}
) to '${out}' (format parquet)`;
}


const min = (xs: number[]) => Math.min(...xs);
const fmt = (s: number) => `${s.toFixed(2)} s`;

const dir = makeProject();
const db = join(dir, 'target', 'bench.duckdb');
const events = join(dir, 'events.parquet');
const smallEvents = join(dir, 'events_small.parquet');
console.log(`bench/pit: ${EVENTS.toLocaleString('en')} events, ${ROWS.toLocaleString('en')} feature rows in ${VIEWS.length} views, ${USERS.toLocaleString('en')} users, ${THREADS} threads, best of ${REPEATS}`);
console.log(`project: ${dir}`);

let t0 = Date.now();
await runFsql(['run'], dir);
await writeEvents(events, EVENTS);
await writeEvents(smallEvents, Math.round(EVENTS / 10));
console.log(`setup (fsql run of the views, events files): ${fmt((Date.now() - t0) / 1000)}`);

const fsqlRuns: ProcessRun[] = [];
const handRuns: QueryRun[] = [];
const feastRuns: QueryRun[] = [];
for (let r = 0; r < REPEATS; r++) {
  fsqlRuns.push(await runFsql(['train', '--service', 'bench', '--events', events, '--out', join(dir, 'fsql.parquet')], dir));
  handRuns.push(await timeQuery(db, handAsof(events, join(dir, 'hand.parquet'))));
}
// Once the Feast-style query is clearly slower, further runs only cost time.
for (let r = 0; r < REPEATS && (r === 0 || min(feastRuns.map((x) => x.seconds)) < 5 * min(fsqlRuns.map((x) => x.seconds))); r++) {
  feastRuns.push(await timeQuery(db, feastStyle(events, join(dir, 'feast.parquet'))));
}

// Memory: the same command on a tenth of the events and on all of them, V8 heap capped at 64 MB.
const capped = ['--max-old-space-size=64'];
const memory = (file: string, out: string) => runFsql(['--target', 'lowmem', 'train', '--service', 'bench', '--events', file, '--out', join(dir, out)], dir, capped);
const memSmall = await memory(smallEvents, 'small.parquet');
const memLarge = await memory(events, 'capped.parquet');

const fsqlWall = min(fsqlRuns.map((x) => x.seconds));
const fsqlWork = min(fsqlRuns.map((x) => x.reported));
const fsqlCpu = min(fsqlRuns.map((x) => x.cpu));
const hand = min(handRuns.map((x) => x.seconds));
const handCpu = min(handRuns.map((x) => x.cpu));
const feast = min(feastRuns.map((x) => x.seconds));
const feastCpu = min(feastRuns.map((x) => x.cpu));
// The machine may be shared: runs alternate, and each fsql run is also compared with the floor run next to it.
const pairRatio = median(fsqlRuns.map((x, i) => x.seconds / handRuns[i].seconds));
const same = await differences(join(dir, 'fsql.parquet'), join(dir, 'hand.parquet'));
const feastDiff = await differences(join(dir, 'fsql.parquet'), join(dir, 'feast.parquet'));
const runs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

console.log('');
console.log('                                                 best wall   best CPU   (all wall times)');
console.log(`fsql train (process, incl. Node start-up):      ${fmt(fsqlWall)}    ${fmt(fsqlCpu)}   (${runs(fsqlRuns.map((x) => x.seconds))})`);
console.log(`fsql train (its work, as it reports):           ${fmt(fsqlWork)}               (${runs(fsqlRuns.map((x) => x.reported))})`);
console.log(`hand-written ASOF query (floor):                ${fmt(hand)}    ${fmt(handCpu)}   (${runs(handRuns.map((x) => x.seconds))})`);
console.log(`Feast-style range join + ROW_NUMBER():          ${fmt(feast)}    ${fmt(feastCpu)}   (${runs(feastRuns.map((x) => x.seconds))})`);
console.log('');
const ok = (x: boolean) => (x ? 'met' : 'NOT met');
console.log(`fsql / floor:   wall ${(fsqlWall / hand).toFixed(2)}x (median of adjacent pairs ${pairRatio.toFixed(2)}x), CPU ${(fsqlCpu / handCpu).toFixed(2)}x, work ${(fsqlWork / hand).toFixed(2)}x   (target <= 1.25x: wall ${ok(fsqlWall / hand <= 1.25)}, CPU ${ok(fsqlCpu / handCpu <= 1.25)})`);
console.log(`Feast / fsql:   wall ${(feast / fsqlWall).toFixed(2)}x, CPU ${(feastCpu / fsqlCpu).toFixed(2)}x   (target >= 3x: ${ok(feast / fsqlWall >= 3)})`);
console.log(`peak RSS of fsql, timed runs (DuckDB memory uncapped): ${fsqlRuns.map((x) => x.peakRssMb.toFixed(0)).join(', ')} MB`);
console.log(`peak RSS of fsql with DuckDB memory_limit ${MEMORY_LIMIT} and the V8 heap capped at 64 MB: ${memSmall.peakRssMb.toFixed(0)} MB for ${Math.round(EVENTS / 10).toLocaleString('en')} events (${memSmall.seconds.toFixed(2)} s), ${memLarge.peakRssMb.toFixed(0)} MB for ${EVENTS.toLocaleString('en')} (${memLarge.seconds.toFixed(2)} s)`);
console.log(`fsql output = floor output: ${same.onlyA === 0 && same.onlyB === 0 && same.rows[0] === same.rows[1] ? 'yes' : `NO (${JSON.stringify(same)})`} (${same.rows[0].toLocaleString('en')} rows)`);
console.log(`Feast-style output vs fsql: ${feastDiff.rows[1].toLocaleString('en')} rows, ${feastDiff.onlyA} fsql rows not in it, ${feastDiff.onlyB} of its rows not in fsql's (row order aside)`);
if (!process.env.KEEP && existsSync(dir)) rmSync(dirname(dir), { recursive: true, force: true });
