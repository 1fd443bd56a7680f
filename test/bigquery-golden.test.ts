/**
 * The SQL fsql runs on BigQuery, pinned by golden files of `run --dry-run` (which the adapter sends
 * statement for statement, see bigquery-cli.test.ts). Every statement node-sql-parser can parse in
 * its bigquery dialect is parsed; MERGE, which it cannot parse, is checked piece by piece and
 * against the reference's grammar (test/golden/bigquery/README.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'node-sql-parser';
import { dryRunBlocks } from './helpers/bigquery.js';
import { fsql, REPO_ROOT } from './helpers/project.js';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'bigquery');
const CASES: Record<string, string[]> = {
  'run-full.sql': [],
  'run-start-2024-04-01.sql': ['--start', '2024-04-01'],
  'run-backfill-window.sql': ['--start', '2024-04-01', '--end', '2024-04-08T06:30:00.000250Z', '--select', 'user_transaction_stats'],
};
const parser = new pkg.Parser();

function parse(sql: string): { type?: string; keyword?: string } {
  const ast = parser.astify(sql, { database: 'bigquery' });
  return (Array.isArray(ast) ? ast[0] : ast) as { type?: string; keyword?: string };
}

/** MERGE as the BigQuery reference writes it; the groups are the parts parsed separately. */
const MERGE = /^merge into (`[^`]+`) as fsql_t\nusing \(\n(select \* from \(\n[\s\S]*\n\) where (.+))\n\) as fsql_s\non false\nwhen not matched by source and (.+) then delete\nwhen not matched then insert row$/;

/**
 * An aggregate view's statements (offline/run-aggregate.ts): a full build creates the events and
 * tiles tables; an incremental one replaces the range of events with the reference's MERGE and the
 * tiles from the range's first tile, in one transaction. Each statement parses.
 */
function checkAggregate(view: string, relation: string, sql: string): void {
  const statements = sql.split(/;\n/);
  const transaction = statements[0] === 'begin transaction';
  if (transaction) assert.equal(statements.pop(), 'commit', `${view}: the transaction commits`);
  for (const statement of transaction ? statements.slice(1) : statements) {
    if (statement.startsWith('merge into ')) {
      const m = MERGE.exec(statement);
      assert.ok(m, `${view}: the MERGE does not have the reference's shape:\n${statement}`);
      assert.equal(m[1], relation);
      assert.equal(parse(m[2]).type, 'select', `${view}: the MERGE's source query parses`);
      continue;
    }
    const plain = statement.replace(/^(create or replace table \S+)\n(?:partition by .*\n)?cluster by .* as\n/, '$1 as\n');
    assert.match(parse(plain).type ?? '', /^(create|delete|insert)$/, `${view}: ${statement.slice(0, 60)}`);
  }
  assert.match(sql, new RegExp(`${relation.replace(/[.\-`]/g, '\\$&').replace(/`$/, '__tiles`')}`), `${view}: the tiles table is written`);
}

for (const [file, args] of Object.entries(CASES)) {
  test(`run --dry-run ${args.join(' ')} for BigQuery matches ${file}, and every statement parses or follows the reference`, () => {
    const r = fsql(['--project-dir', REPO_ROOT, '--target', 'prod', 'run', '--dry-run', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const golden = join(GOLDEN, file);
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, r.stdout);
    assert.ok(existsSync(golden), `missing ${golden}; run with UPDATE_GOLDEN=1`);
    assert.equal(r.stdout, readFileSync(golden, 'utf8'), `${file} differs from the dry run`);

    const blocks = dryRunBlocks(r.stdout);
    assert.ok(blocks.size > 0);
    for (const [view, { kind, sql }] of blocks) {
      const relation = `\`acme-ml.features.${view}\``;
      if (kind === 'aggregate') {
        checkAggregate(view, relation, sql);
        continue;
      }
      assert.ok(!/^begin transaction/.test(sql), `${view}: one atomic statement needs no transaction`);
      if (kind === 'table') {
        // partitioned by day on the timestamp and clustered by the join keys (the partition and
        // cluster clauses, which node-sql-parser does not know, are analyzed on ZetaSQL in bigquery-execute)
        const layout = new RegExp(`^create or replace table ${relation.replace(/[.-]/g, '\\$&')}\npartition by timestamp_trunc\\(\`(event_ts|feature_ts)\`, day\\)\ncluster by (\`[a-z_]+\`(, )?)+ as\n`);
        assert.match(sql, layout, view);
        const ast = parse(sql.replace(layout, `create or replace table ${relation} as\n`));
        assert.equal(ast.type, 'create', view);
        assert.equal(ast.keyword, 'table', view);
        continue;
      }
      assert.equal(kind, 'incremental');
      const m = MERGE.exec(sql);
      assert.ok(m, `${view}: the MERGE does not have the reference's shape:\n${sql}`);
      const [, target, source, sourceRange, deleteRange] = m;
      assert.equal(target, relation);
      assert.equal(parse(source).type, 'select', `${view}: the MERGE's source query parses`);
      assert.equal(parse(`select 1 from ${target} as fsql_t where ${deleteRange}`).type, 'select', `${view}: the delete condition parses`);
      // the rows deleted are exactly the range the source keeps: a replace of that range
      assert.equal(deleteRange, sourceRange.replace(/`event_ts`/g, 'fsql_t.`event_ts`'));
      assert.match(sourceRange, /^`event_ts` >= timestamp '2024-04-01 00:00:00\.000000\+00'/);
    }
  });
}
