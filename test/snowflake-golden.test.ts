/**
 * The exact SQL fsql sends to Snowflake, pinned by golden files (test/golden/snowflake/), and
 * checked: every statement node-sql-parser can parse as Snowflake is parsed here; the rest must
 * be listed in REFERENCE.md with the Snowflake reference section it was checked against.
 * UPDATE_GOLDEN=1 rewrites the files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseForeign } from '../src/compiler/foreign-parse.js';
import { SnowflakeDialect } from '../src/dialects/snowflake.js';
import { loadProject } from '../src/project/load.js';
import { CONTEXT_QUERY, createSchemaSql, describeSql, explainSql, loadFileSql, SESSION_SETUP } from '../src/warehouse/snowflake-sql.js';
import { fsql, REPO_ROOT } from './helpers/project.js';
import { splitGolden } from './helpers/golden-sql.js';

const DIR = join(REPO_ROOT, 'test', 'golden', 'snowflake');

function golden(name: string, text: string): string {
  const path = join(DIR, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  assert.ok(existsSync(path), `missing golden file ${path}; run with UPDATE_GOLDEN=1`);
  assert.equal(text, readFileSync(path, 'utf8'), `${name} differs from ${path}`);
  return text;
}

/** What the adapter sends by itself, in the golden files' format: a `-- what` line, then statements. */
function adapterSql(): string {
  const project = loadProject({ projectDir: REPO_ROOT, target: 'sf' });
  const d = new SnowflakeDialect();
  const csv = loadFileSql(d, project.target, '/data/events.csv', { name: 'fsql_events' }, '0123456789AB');
  const parquet = loadFileSql(d, project.target, '/data/events.parquet', { name: 'fsql_events' }, '0123456789AB');
  const blocks: [string, string[]][] = [
    ['every new session', [SESSION_SETUP]],
    ['first session: what the login got', [CONTEXT_QUERY]],
    ['first session, when the schema is missing', createSchemaSql(d, 'ANALYTICS', 'FEATURES')],
    ['describe (run: does the table exist, which columns did it get)', [describeSql(d, project.target, { database: 'ANALYTICS', schema: 'FEATURES', name: 'user_transaction_stats' })]],
    ['compile --validate, per view', [explainSql('select user_id, ts as event_ts from "RAW"."TRANSACTIONS"')]],
    ['atomic statements are wrapped in', ['begin transaction', 'commit']],
    ['and, when one of them fails', ['rollback']],
    ['loadFile (train --events file.csv), in one session', [...csv.load, ...csv.cleanup]],
    ['loadFile (train --events file.parquet)', [...parquet.load, ...parquet.cleanup]],
  ];
  return blocks.map(([what, statements]) => `-- ${what}\n${statements.map((s) => `${s};`).join('\n')}\n`).join('\n');
}

const dryRun = (...args: string[]) => {
  const r = fsql(['--project-dir', REPO_ROOT, '--target', 'sf', 'run', '--dry-run', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

test('run --dry-run for Snowflake matches the golden SQL (full build and incremental)', () => {
  golden('run.sql', dryRun());
  golden('run-incremental.sql', dryRun('--start', '2024-04-01'));
});

test('the SQL the adapter sends by itself matches the golden SQL', () => {
  golden('adapter.sql', adapterSql());
});

test('every statement parses as Snowflake SQL, or is listed in REFERENCE.md with the reference checked', () => {
  const statements = ['run.sql', 'run-incremental.sql', 'adapter.sql'].flatMap((f) => splitGolden(readFileSync(join(DIR, f), 'utf8')));
  const rows = [...readFileSync(join(DIR, 'REFERENCE.md'), 'utf8').matchAll(/^\| `([^`]+)` \| (https:\/\/docs\.snowflake\.com\/\S+) \|/gm)].map((m) => ({
    pattern: new RegExp(`^${m[1].split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}`, 'is'),
    text: m[1],
  }));
  assert.ok(rows.length >= 10, 'REFERENCE.md rows read');
  const used = new Set<string>();
  let parsed = 0;
  for (const sql of statements) {
    const body = sql.replace(/^\s*--.*$/gm, '').trim();
    if (parseForeign(body, 'snowflake').error === undefined) {
      parsed++;
      continue;
    }
    const row = rows.find((r) => r.pattern.test(body));
    assert.ok(row, `node-sql-parser cannot parse this statement and REFERENCE.md does not list it:\n${body}`);
    used.add(row.text);
  }
  assert.ok(parsed >= 8, `${parsed} statements parsed`);
  for (const r of rows) assert.ok(used.has(r.text), `REFERENCE.md lists '${r.text}' but no unparseable statement matches it; remove the row`);
});
