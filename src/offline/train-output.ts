/**
 * Where `fsql train --out DST` writes, all or nothing: a file is written under a temporary name
 * beside DST and renamed into place at the end; a table is replaced by one CREATE OR REPLACE
 * TABLE ... AS statement. A failed run leaves no partial file or table.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName } from '../plans/relation.js';
import { ProjectError } from '../errors.js';
import type { Target } from '../project/types.js';
import type { Column } from '../values.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { tableName } from './events.js';
import { streamToFile } from './stream-to-file.js';

export type TrainOutput =
  | { kind: 'file'; path: string; format: 'csv' | 'parquet'; display: string }
  | { kind: 'table'; table: RelationName; display: string };

export function parseTrainOutput(d: Dialect, text: string, target: Target, cwd = process.cwd()): TrainOutput {
  if (text.startsWith('table:')) return { kind: 'table', table: tableName(d, '--out', text.slice(6), target), display: text };
  const ext = extname(text).toLowerCase();
  if (ext !== '.csv' && ext !== '.parquet') throw new ProjectError('--out', `'${text}' is not a .csv or .parquet file or table:<name>.`);
  return { kind: 'file', path: resolve(cwd, text), format: ext === '.csv' ? 'csv' : 'parquet', display: text };
}

/**
 * Creates the temporary file the output is written to, beside the output (so the final rename is
 * atomic); fails at once, before any work, when the output cannot be written there.
 */
export function reserveTempFile(out: Extract<TrainOutput, { kind: 'file' }>): string {
  const dir = dirname(out.path);
  const tmp = join(dir, `.${basename(out.path)}.fsql-${randomBytes(4).toString('hex')}.tmp`);
  try {
    if (existsSync(out.path) && statSync(out.path).isDirectory()) throw new Error('it is a directory');
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(tmp, 'wx'));
  } catch (e) {
    throw new ProjectError('--out', `cannot write ${out.display}: ${(e as Error).message}. Choose a path in a folder you can write to.`);
  }
  return tmp;
}

/** The statements that write `select` to the output, when the warehouse can do it alone. */
export function outputStatements(d: Dialect, select: string, out: TrainOutput, tmp: string): string[] | undefined {
  if (out.kind === 'table') return d.createTableAs(d.relation(out.table), select);
  return d.writesFiles ? [d.copyToFile(select, tmp, out.format)] : undefined;
}

/** Writes the training table; `columns` (names and types) are needed when rows are streamed. */
export async function writeTrainOutput(wh: Warehouse, select: string, out: TrainOutput, tmp: string | undefined, columns: () => Column[]): Promise<void> {
  const statements = outputStatements(wh.dialect, select, out, tmp ?? '');
  if (out.kind === 'table') {
    await wh.execute(statements!, { atomic: statements!.length > 1, label: out.display });
    return;
  }
  if (!tmp) throw new Error('a file output needs its temporary file');
  try {
    if (statements) await wh.execute(statements, { label: out.display });
    else await streamToFile(wh, select, columns(), tmp, out.format, out.display);
    renameSync(tmp, out.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function discardTempFile(tmp: string | undefined): void {
  if (tmp) rmSync(tmp, { force: true });
}
