/** The data tests `fsql test` runs, as data: each counts the rows that break one rule. */
import { rowKey, type ColumnTest, type ViewDef } from '../project/types.js';
import type { RelationName } from './relation.js';

export type DataTestKind = 'unique_keys' | 'not_null' | 'unique' | 'accepted_values' | 'accepted_range';

export interface DataTest {
  /** stable name shown to the user, e.g. not_null_user_stats_user_id */
  name: string;
  view: string;
  table: RelationName;
  kind: DataTestKind;
  /** the columns the rule is about */
  columns: string[];
  args: Record<string, unknown>;
}

/** Built-in tests of every view (unique keys+timestamps, not-null keys and timestamp) and its YAML column tests. */
export function dataTestsFor(view: ViewDef, table: RelationName): DataTest[] {
  const keyCols = rowKey(view);
  const tests: DataTest[] = [{ name: `unique_${view.name}_keys_timestamp`, view: view.name, table, kind: 'unique_keys', columns: keyCols, args: {} }];
  for (const col of [...view.joinKeys, view.config.timestamp]) {
    tests.push({ name: `not_null_${view.name}_${col}`, view: view.name, table, kind: 'not_null', columns: [col], args: {} });
  }
  for (const doc of view.columns) {
    for (const t of doc.tests) {
      const name = `${t.name}_${view.name}_${doc.name}`;
      if (tests.some((x) => x.name === name)) continue;
      tests.push({ name, view: view.name, table, kind: t.name as ColumnTest['name'] as DataTestKind, columns: [doc.name], args: t.args });
    }
  }
  return tests;
}
