/**
 * A project for feature statistics and drift tests: an incremental view over a DuckDB table of
 * generated events, one day of rows per batch, each batch optionally shifted (mean moved, NULLs
 * added, a category gone), and runs of one day each at an injected clock.
 */
import { Logger } from '../../src/log.js';
import { runViews } from '../../src/offline/run.js';
import { loadProject } from '../../src/project/load.js';
import type { Project } from '../../src/project/types.js';
import { seededRandom } from '../../src/seeded-random.js';
import { Timestamp } from '../../src/values.js';
import { openWarehouse } from '../../src/warehouse/index.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { makeProject } from './project.js';

export const DAY0 = Timestamp.parse('2024-03-01T00:00:00Z')!;
export const CATEGORIES = ['a', 'b', 'c', 'd', 'e'];

const YML = (monitors: string) => `sources:
  - name: raw
    tables:
      - name: events
        timestamp: ts
entities:
  - name: user
    join_keys: [user_id]
${monitors}`;

const VIEW = `{{ config(entities=['user'], timestamp='event_ts', materialized='incremental') }}
select user_id, ts as event_ts, amount, qty, category, flag
from {{ source('raw', 'events') }}
{% if is_incremental() %} where ts >= {{ incremental_start('0s') }} {% endif %}
`;

export interface Shift {
  /** amount's mean moved by this many standard deviations (amount ~ N(100, 10)) */
  sigmas?: number;
  /** this fraction of qty set NULL */
  nullFraction?: number;
  /** a category that no row has */
  drop?: string;
}

export function statsProject(files: Record<string, string> = {}, monitors = ''): string {
  return makeProject({ 'models/schema.yml': YML(monitors), 'models/activity.sql': VIEW, ...files });
}

export const dayStart = (day: number) => DAY0.plusSeconds(day * 86400);

/** `rows` events dated within day `day`, from `seed`. */
export async function loadDay(wh: Warehouse, day: number, seed: number, rows = 2000, shift: Shift = {}): Promise<void> {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const categories = CATEGORIES.filter((c) => c !== shift.drop);
  const values: string[] = [];
  for (let i = 0; i < rows; i++) {
    const ts = dayStart(day).plusSeconds(Math.floor((i * 86400) / rows));
    const amount = 100 + 10 * (normal() + (shift.sigmas ?? 0));
    const qty = rand() < (shift.nullFraction ?? 0) ? 'null' : String(Math.floor(rand() * 10));
    const category = categories[Math.floor(rand() * categories.length)];
    const amountSql = i % 50 === 0 ? 'null' : amount.toFixed(6);
    values.push(`('u${i % 97}', timestamp '${ts.toISOString().replace('T', ' ').replace('Z', '')}', ${amountSql}, ${qty}, '${category}', ${rand() < 0.5})`);
  }
  await wh.execute([
    'create table if not exists events (user_id varchar, ts timestamp, amount double, qty bigint, category varchar, flag boolean)',
    `insert into events values ${values.join(',\n')}`,
  ]);
}

export async function withProject<T>(dir: string, fn: (project: Project, wh: Warehouse) => Promise<T>): Promise<T> {
  const project = loadProject({ projectDir: dir });
  const wh = await openWarehouse(project);
  try {
    return await fn(project, wh);
  } finally {
    await wh.close();
  }
}

/** One incremental run over day `day`'s rows, its statistics recorded at `recordedAt`. */
export async function runDay(project: Project, wh: Warehouse, day: number, recordedAt: Timestamp): Promise<void> {
  const r = await runViews(project, wh, new Logger('text', true), { start: dayStart(day), end: dayStart(day + 1), clock: () => recordedAt });
  const failed = r.results.find((v) => v.status !== 'success');
  if (failed) throw new Error(`${failed.name}: ${failed.message}`);
}
