/**
 * The types of a stored view's features in training: a table view's are its offline table's
 * columns; an aggregate view's are its windows, typed from the function and the input column.
 */
import { featuresOf } from '../compiler/compile.js';
import { featureType } from '../plans/aggregate.js';
import type { Project } from '../project/types.js';
import type { Column, DataType } from '../values.js';
import { findColumn } from './events.js';

/** The type of one feature of `view`, whose offline table has `columns`. */
export function typeOfFeature(project: Project, view: string, columns: Column[], feature: string): DataType {
  const f = project.views.get(view)?.config.aggregate?.features.find((x) => x.name === feature);
  if (!f) return findColumn(columns, feature)!.type;
  const input = f.column === '*' ? undefined : findColumn(columns, f.column)?.type.type;
  return featureType(f, input === 'array' ? undefined : input);
}

/** Every feature of `view` with its type. */
export function featureColumns(project: Project, view: string, columns: Column[]): Column[] {
  return featuresOf(project.views.get(view)!, columns.map((col) => col.name)).map((name) => ({ name, type: typeOfFeature(project, view, columns, name) }));
}
