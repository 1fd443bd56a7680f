/** dbt selection syntax over feature views. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dag } from '../src/compiler/dag.js';
import { selectViews } from '../src/compiler/select.js';
import type { ViewDef } from '../src/project/types.js';

function view(name: string, file: string, tags: string[] = []): ViewDef {
  return { name, file, absPath: file, sql: '', joinKeys: [], columns: [], config: { entities: [], timestamp: 't', materialized: 'table', lookbackSeconds: 0, online: true, description: '', owner: '', tags } };
}

const views = new Map<string, ViewDef>([
  ['base', view('base', 'models/core/base.sql', ['core'])],
  ['mid', view('mid', 'models/core/mid.sql', ['core', 'fraud'])],
  ['top', view('top', 'models/fraud/top.sql', ['fraud'])],
  ['alone', view('alone', 'models/misc/alone.sql')],
]);
const dag = new Dag(new Map([['base', []], ['mid', ['base']], ['top', ['mid']], ['alone', []]]));

test('names, tags, paths, graph operators, union, intersection and exclude', () => {
  assert.deepEqual(selectViews(views, dag), ['alone', 'base', 'mid', 'top']);
  assert.deepEqual(selectViews(views, dag, ['mid']), ['mid']);
  assert.deepEqual(selectViews(views, dag, ['+mid']), ['base', 'mid']);
  assert.deepEqual(selectViews(views, dag, ['mid+']), ['mid', 'top']);
  assert.deepEqual(selectViews(views, dag, ['+top']), ['base', 'mid', 'top']);
  assert.deepEqual(selectViews(views, dag, ['1+top']), ['mid', 'top']);
  assert.deepEqual(selectViews(views, dag, ['tag:fraud']), ['mid', 'top']);
  assert.deepEqual(selectViews(views, dag, ['path:models/core']), ['base', 'mid']);
  assert.deepEqual(selectViews(views, dag, ['alone top']), ['alone', 'top']);
  assert.deepEqual(selectViews(views, dag, ['alone', 'top']), ['alone', 'top']);
  assert.deepEqual(selectViews(views, dag, ['tag:core,tag:fraud']), ['mid']);
  assert.deepEqual(selectViews(views, dag, ['+top'], ['tag:core']), ['top']);
  assert.deepEqual(selectViews(views, dag, ['b*']), ['base']);
});

test('a selector matching nothing, or an unknown method, is an error', () => {
  assert.throws(() => selectViews(views, dag, ['nope']), /--select: 'nope' matches no feature view/);
  assert.throws(() => selectViews(views, dag, ['owner:x']), /unknown selector method 'owner:'/);
  assert.throws(() => new Dag(new Map([['a', ['b']], ['b', ['a']]])), /ref\(\) forms a cycle: a -> b -> a/);
});
