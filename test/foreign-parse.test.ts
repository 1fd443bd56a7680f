/** node-sql-parser over many views on worker threads gives what it gives on one thread, in the views' order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseForeign, parseForeignAll } from '../src/compiler/foreign-parse.js';

test('parsing 400 views in shares on worker threads returns each view its own result, errors included', async () => {
  const sqls = Array.from({ length: 400 }, (_, i) =>
    i % 7 === 3 ? `select user_id, count(* as broken_${i} from t` : `select user_id, sum(amount) as spend_${i}, ts as event_ts_${i} from \`p.d.t_${i}\``,
  );
  const shared = await parseForeignAll(sqls, 'bigquery');
  assert.deepEqual(shared, sqls.map((sql) => parseForeign(sql, 'bigquery')));
  assert.deepEqual(shared[1].columns, ['user_id', 'spend_1', 'event_ts_1']);
  assert.ok(shared[3].error, 'the broken view keeps its error');
  assert.deepEqual(shared[399].columns, ['user_id', 'spend_399', 'event_ts_399']);
});
