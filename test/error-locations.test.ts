/** Errors point at the right file and line, suggest the name meant, and are said once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nunjucks from 'nunjucks';
import { fsql, makeProject } from './helpers/project.js';
import { mini, MINI_CSV, MINI_VIEW, MINI_YML } from './helpers/mini.js';
import { EVENTS, trainProject } from './helpers/train-project.js';
import { markLines, unmark } from '../src/compiler/source-lines.js';

/** A macro that renders to two lines, so compiled lines no longer match the file's lines. */
const TWO_LINES = { 'macros/two.sql': '{% macro two_amounts() -%}\n  amount as a1,\n  amount as a2\n{%- endmacro %}\n' };
const WITH_MACRO = MINI_VIEW.replace('  user_id,\n', '  user_id,\n  {{ two_amounts() }},\n');

function fails(args: string[], files: Record<string, string>): string {
  const dir = makeProject(mini(files));
  const r = fsql(['--project-dir', dir, ...args]);
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stderr;
}

const count = (text: string, what: string) => text.split(what).length - 1;

test('an unknown macro names the file and line and suggests the closest name', () => {
  const err = fails(['compile'], { 'models/spend.sql': MINI_VIEW.replace('rolling_window(', 'rolling_windw(') });
  assert.match(err, /^error: models\/spend\.sql:5: 'rolling_windw' is not a macro or function\. Did you mean 'rolling_window'\?/);
  assert.doesNotMatch(err, /undefined or falsey/);
  const user = fails(['compile'], { ...TWO_LINES, 'models/spend.sql': WITH_MACRO.replace('two_amounts()', 'two_amount()') });
  assert.match(user, /models\/spend\.sql:4: 'two_amount' is not a macro or function\. Did you mean 'two_amounts'\?.* two_amounts/);
});

test('a Jinja syntax error names the line it is on', () => {
  assert.match(fails(['compile'], { 'models/spend.sql': MINI_VIEW.replace('  user_id,\n', '  user_id, {% if %}\n') }), /^error: models\/spend\.sql:3: unexpected token: %\}/);
  assert.match(fails(['compile'], { 'models/spend.sql': MINI_VIEW.replace("'payments') }}", "'payments') }\nwhere true") }), /^error: models\/spend\.sql:6: expected variable end/);
});

test('an unknown ref or source suggests the closest name', () => {
  assert.match(fails(['compile'], { 'models/spend.sql': MINI_VIEW.replace("source('raw', 'payments')", "ref('spnd')") }), /models\/spend\.sql:6: ref\('spnd'\) names no feature view\. Did you mean 'spend'\?/);
  assert.match(fails(['compile'], { 'models/spend.sql': MINI_VIEW.replace("'payments'", "'paymnts'") }), /models\/spend\.sql:6: source\('raw', 'paymnts'\) is not defined.*Did you mean source\('raw', 'payments'\)\?/);
});

test('SQL errors name the source line, past a macro that renders to several lines', () => {
  const parse = fails(['compile'], { ...TWO_LINES, 'models/spend.sql': WITH_MACRO.replace('from {{', 'fromm {{') });
  assert.match(parse, /models\/spend\.sql:7: DuckDB's parser rejects the compiled SQL/);
  // an unknown column: compile binds each view against its sources' files, before any build
  const files = { ...TWO_LINES, 'models/spend.sql': WITH_MACRO.replace('sum(amount)', 'sum(amont)') };
  const bind = fails(['compile'], files);
  assert.match(bind, /models\/spend\.sql:6: DuckDB cannot bind the SELECT: Referenced column "amont" not found/);
  assert.match(bind, /Candidate bindings: "amount"/);
  assert.match(fails(['run'], files), /FAIL spend: models\/spend\.sql:6: DuckDB cannot bind the SELECT/);
});

test('markers never change what a template renders, whitespace control included', () => {
  const env = new nunjucks.Environment(null, { autoescape: false });
  const templates = [
    'a  \n{%- if true -%}\n  b {{ 1 }} \n{% endif %}\nc\n',
    'x\n  {{- "y" }}\n{# note\nmore #}z\n',
    'p  \n   \n{%- set q = 1 -%}  \n \n{{ q }}\n',
    '{% for i in [1, 2] %}\nrow {{ i }}\n{% endfor %}\n',
  ];
  for (const src of templates) {
    const marked = markLines(src)!;
    assert.equal(unmark(env.renderString(marked, {}), src.split('\n').length).text, env.renderString(src, {}), JSON.stringify(src));
  }
  const { lines } = unmark(env.renderString(markLines('a\n{% if true %}\nb\n{% endif %}\nc\n')!, {}), 6);
  assert.deepEqual(lines.slice(0, 4), [1, 2, 3, 4]);
});

test('a wrong path: on a source is one error naming the sources entry; no view runs', () => {
  const second = MINI_VIEW.replace('spend_1d', 'spend_again');
  const err = fails(['run'], { 'models/schema.yml': MINI_YML.replace('data/payments.csv', 'data/paymnts.csv'), 'models/again.sql': second });
  assert.match(err, /^error: models\/schema\.yml:4: source 'raw' table 'payments': path 'data\/paymnts\.csv' is not a file/);
  assert.equal(count(err, 'paymnts.csv'), 2, err); // the path as written and where it was looked for, in one message
  assert.equal(count(err, 'error:'), 1, err);
  assert.doesNotMatch(err, /FAIL|IO Error/);
});

test('a CSV with mixed line endings is one error with the cause, not the sniffer dump', () => {
  const mixed = MINI_CSV.split('\n').map((l, i) => (i % 2 === 0 ? `${l}\r` : l)).join('\n');
  const err = fails(['run'], { 'data/payments.csv': mixed, 'models/again.sql': MINI_VIEW.replace('spend_1d', 'spend_again') });
  assert.match(err, /^error: models\/schema\.yml:4: source 'raw' table 'payments': DuckDB cannot read 'data\/payments\.csv'/);
  assert.match(err, /mixes \\r\\n \(\d+\) and \\n \(\d+\) line endings.*dos2unix/);
  assert.equal(count(err, 'error:'), 1, err);
  assert.doesNotMatch(err, /Possible fixes|Candidates|FAIL/);
});

test('train: an events join key of the wrong type names the events column and the type it needs', () => {
  const dir = trainProject({ 'data/events.csv': EVENTS.replace('e6,u9,9,', 'e6,u9,d_002,') });
  assert.equal(fsql(['run'], { cwd: dir }).code, 0);
  const r = fsql(['train', '--service', 'training', '--events', 'data/events.csv', '--out', 'out.csv'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: data\/events\.csv: events column 'merchant_id' is string, but join key 'merchant_id' of feature view '\w+' is int64/);
  assert.doesNotMatch(r.stderr, /out\.csv|Conversion Error/);
});
