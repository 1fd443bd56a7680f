/** SQL for data tests: one query per test, returning the number of failing rows as `failures`. */
import { ProjectError } from '../errors.js';
import type { DataTest } from '../plans/data-tests.js';
import type { Dialect } from './dialect.js';

export function renderDataTest(t: DataTest, d: Dialect, file: string): string {
  const q = (c: string) => d.quoteIdent(c);
  const col = q(t.columns[0]);
  const table = d.relation(t.table);
  switch (t.kind) {
    case 'unique_keys':
    case 'unique': {
      const cols = t.columns.map(q).join(', ');
      return `select coalesce(sum(n - 1), 0) as failures from (select count(*) as n from ${table} group by ${cols} having count(*) > 1) as dup`;
    }
    case 'not_null':
      return `select count(*) as failures from ${table} where ${col} is null`;
    case 'accepted_values': {
      const values = t.args.values;
      if (!Array.isArray(values) || values.length === 0) throw new ProjectError(file, `accepted_values on ${t.view}.${t.columns[0]} needs {values: [...]}.`);
      const list = values.map((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : d.stringLiteral(String(v)))).join(', ');
      return `select count(*) as failures from ${table} where ${col} is not null and ${col} not in (${list})`;
    }
    case 'accepted_range': {
      const { min, max } = t.args as { min?: unknown; max?: unknown };
      const bound = (v: unknown, name: string) => {
        if (typeof v !== 'number') throw new ProjectError(file, `accepted_range on ${t.view}.${t.columns[0]}: ${name} must be a number.`);
        return String(v);
      };
      const conds = [min === undefined ? '' : `${col} < ${bound(min, 'min')}`, max === undefined ? '' : `${col} > ${bound(max, 'max')}`].filter(Boolean);
      if (conds.length === 0) throw new ProjectError(file, `accepted_range on ${t.view}.${t.columns[0]} needs min, max or both.`);
      return `select count(*) as failures from ${table} where ${conds.join(' or ')}`;
    }
  }
}
