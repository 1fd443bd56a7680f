/** Every bad input names the file (and line where there is one) and what to do, with exit code 1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DUCKDB_PROFILE, fsql, makeProject } from './helpers/project.js';
import { mini, MINI_VIEW, MINI_YML } from './helpers/mini.js';

function compileError(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): string {
  const dir = makeProject(mini(files));
  const r = fsql(['--project-dir', dir, 'compile'], { env });
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stderr;
}

test('the mini project compiles cleanly', () => {
  const dir = makeProject(mini());
  const r = fsql(['--project-dir', dir, 'compile']);
  assert.equal(r.code, 0, r.stderr);
});

test('profiles.yml: an unknown key names the key and the file', () => {
  const err = compileError({ 'profiles.yml': DUCKDB_PROFILE('proj', '      private_key_file: /k.p8\n') });
  assert.match(err, /profiles\.yml:9: unknown key 'private_key_file' in duckdb output 'dev'/);
});

test('profiles.yml: an unset env_var with no default is an error naming the variable and line', () => {
  const profile = `proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: "{{ env_var('FSQL_TEST_UNSET_PATH') }}"\n`;
  const err = compileError({ 'profiles.yml': profile });
  assert.match(err, /profiles\.yml:6: environment variable FSQL_TEST_UNSET_PATH is not set/);
});

test('profiles.yml: FSQL_SECRET_ values and password fields never appear in errors', () => {
  const profile = `proj:\n  target: dev\n  outputs:\n    dev:\n      type: "{{ env_var('FSQL_SECRET_TYPE') }}"\n`;
  const err = compileError({ 'profiles.yml': profile }, { FSQL_SECRET_TYPE: 'hunter2-very-secret' });
  assert.match(err, /type must be duckdb, bigquery, snowflake or postgres, not '\*\*\*\*'/);
  assert.doesNotMatch(err, /hunter2/);
  const sf = `proj:\n  target: sf\n  outputs:\n    sf:\n      type: snowflake\n      account: a\n      user: u\n      password: "p4ssw0rd-xyz"\n      database: d\n      schema: s\n      threads: "p4ssw0rd-xyz"\n`;
  const err2 = compileError({ 'profiles.yml': sf });
  assert.match(err2, /threads must be a whole number/);
  assert.doesNotMatch(err2, /p4ssw0rd/);
});

test('profiles.yml: an unknown target lists the targets', () => {
  const dir = makeProject(mini());
  const r = fsql(['--project-dir', dir, '--target', 'nope', 'compile']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /profiles\.yml:\d+: target 'nope' not found in profile 'proj'. Targets: dev/);
});

test('YAML: invalid syntax names the file and line', () => {
  const err = compileError({ 'models/schema.yml': MINI_YML + 'entities: [\n' });
  assert.match(err, /models\/schema\.yml:\d+: invalid YAML/);
});

test('YAML: an unknown key in an entity names the key, file and line', () => {
  const err = compileError({ 'models/schema.yml': MINI_YML.replace('join_keys: [user_id]', 'join_keys: [user_id]\n    joinkeys: [x]') });
  assert.match(err, /models\/schema\.yml:10: unknown key 'joinkeys' in an entity. Allowed keys: name, join_keys, description/);
});

test('view config: unknown key, unknown entity, missing timestamp, bad ttl', () => {
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("ttl='2d'", "ttl='2d', tll='1d'") }), /models\/spend\.sql:1: config has unknown key 'tll'/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("['user']", "['usr']") }), /models\/spend\.sql:1: config entities names unknown entity 'usr'. Did you mean 'user'\? Define it under 'entities:'.*use one of: user/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("timestamp='event_ts', ", '') }), /models\/spend\.sql:1: config needs timestamp='column'/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("ttl='2d'", "ttl='2 days'") }), /config 'ttl' must be a duration such as/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace(/^\{\{.*\}\}\n/, '') }), /models\/spend\.sql:1: a feature view starts with \{\{ config\(/);
});

test('a view whose SELECT lacks its join keys or timestamp is rejected with its columns listed', () => {
  const err = compileError({ 'models/spend.sql': MINI_VIEW.replace('  user_id,\n', '') });
  assert.match(err, /models\/spend\.sql: the SELECT lacks 'user_id'.*Output columns: event_ts, spend_1d/);
  const err2 = compileError({ 'models/spend.sql': MINI_VIEW.replace('ts as event_ts', 'ts as event_time') });
  assert.match(err2, /the SELECT lacks 'event_ts'/);
});

test('services: a missing view or a missing feature is named with the file and line', () => {
  assert.match(compileError({ 'models/schema.yml': MINI_YML.replace('- spend: [spend_1d]', '- spendz') }), /models\/schema\.yml:13: feature service 'svc' names unknown feature view 'spendz'. Did you mean 'spend'\? Views: spend/);
  assert.match(compileError({ 'models/schema.yml': MINI_YML.replace('[spend_1d]', '[spend_7d]') }), /models\/schema\.yml:13: feature service 'svc' names feature 'spend_7d' that view 'spend' does not have. Its features: spend_1d/);
});

test('duplicate names name both places', () => {
  assert.match(compileError({ 'models/other/spend.sql': MINI_VIEW }), /models\/spend\.sql: duplicate feature view name \(file base name\) 'spend' \(also defined at models\/other\/spend\.sql\)/);
  const twice = MINI_YML.replace('entities:\n', 'entities:\n  - name: user\n    join_keys: [uid]\n');
  assert.match(compileError({ 'models/schema.yml': twice }), /models\/schema\.yml:\d+: duplicate entity 'user'/);
});

test('templates: unknown ref and source, undefined var, cycles, SQL syntax errors', () => {
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("source('raw', 'payments')", "ref('nothing')") }), /models\/spend\.sql.*ref\('nothing'\) names no feature view/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace("'payments'", "'paymentz'") }), /source\('raw', 'paymentz'\) is not defined.*Sources: raw\.payments/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace('sum(amount)', "sum(amount * {{ var('rate') }})") }), /var\('rate'\) is not set/);
  const a = MINI_VIEW.replace("{{ source('raw', 'payments') }}", "{{ ref('b') }}").replace('ts as event_ts', 'event_ts').replace("'user_id', 'ts'", "'user_id', 'event_ts'").replace('sum(amount)', 'sum(spend_1d)');
  const b = a.replace("ref('b')", "ref('a')");
  assert.match(compileError({ 'models/a.sql': a, 'models/b.sql': b }), /ref\(\) forms a cycle: (a -> b -> a|b -> a -> b)/);
  assert.match(compileError({ 'models/spend.sql': MINI_VIEW.replace('from {{', 'fromm {{') }), /models\/spend\.sql:6: DuckDB's parser rejects the compiled SQL/);
});

test('--vars must be a YAML mapping', () => {
  const dir = makeProject(mini());
  const r = fsql(['--project-dir', dir, '--vars', '[1, 2]', 'compile']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--vars: must be a YAML mapping/);
});

test('a missing profiles.yml says where it looked and how to fix it', () => {
  const dir = makeProject(mini());
  const r = fsql(['--project-dir', dir, '--profiles-dir', `${dir}/nowhere`, 'compile']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nowhere\/profiles\.yml: profiles\.yml not found/);
});

test('fsql run in a folder that is not a project fails naming the folder, and writes nothing', () => {
  const profiles = makeProject(mini());
  const empty = mkdtempSync(join(tmpdir(), 'fsql-not-a-project-'));
  const r = fsql(['run'], { cwd: empty, env: { FSQL_PROFILES_DIR: profiles } });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(`${empty}: not an fsql project: no fsql_project.yml and no feature views (*.sql) under models/`), r.stderr);
  assert.doesNotMatch(r.stderr + r.stdout, /Done|TOTAL/);
  assert.equal(existsSync(join(empty, 'target')), false, 'target/ must not be created');
});

test('a project with fsql_project.yml but no views is an error naming the file', () => {
  const dir = makeProject({ 'fsql_project.yml': 'name: proj\n', 'models/schema.yml': MINI_YML });
  const r = fsql(['--project-dir', dir, 'run']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /fsql_project\.yml: the project has no feature views: no \*\.sql file under models\//);
  assert.equal(existsSync(join(dir, 'target')), false);
});

test('a profile named in fsql_project.yml that profiles.yml lacks is an error, even with one profile there', () => {
  const byProfile = compileError({ 'fsql_project.yml': 'name: proj\nprofile: prod_features\n' });
  assert.match(byProfile, /profiles\.yml:1: profile 'prod_features' \('profile:' in fsql_project\.yml\) not found. Profiles here: proj/);
  const byName = compileError({ 'fsql_project.yml': 'name: other\n' });
  assert.match(byName, /profile 'other' \('name:' in fsql_project\.yml, used as the profile when 'profile:' is not set\) not found. Profiles here: proj/);
  // Nothing names a profile: the only one is used, as the SPEC says.
  const dir = makeProject(mini({ 'fsql_project.yml': 'vars: {x: 1}\n' }));
  const r = fsql(['--project-dir', dir, 'compile']);
  assert.equal(r.code, 0, r.stderr);
});
