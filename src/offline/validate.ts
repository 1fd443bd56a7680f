/**
 * `fsql compile --validate`: every selected view's SELECT checked by the warehouse itself without
 * running it (BigQuery: a dry run, which also says how many bytes the query would scan; DuckDB:
 * EXPLAIN). Unlike plain `compile`, this connects.
 */
import type { Compilation } from '../compiler/compile.js';
import { pointAtSource } from '../compiler/source-lines.js';
import { CommandFailed, FsqlError } from '../errors.js';
import type { Project } from '../project/types.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface ViewCheck {
  name: string;
  file: string;
  status: 'ok' | 'error';
  /** how it was checked: `BigQuery dry run`, `EXPLAIN` */
  method?: string;
  /** bytes the view's SELECT would scan, where the warehouse says */
  bytesProcessed?: bigint;
  message: string;
}

export async function validateViews(project: Project, c: Compilation, wh: Warehouse, names: string[], threads = project.target.threads): Promise<ViewCheck[]> {
  const validate = wh.validate?.bind(wh);
  if (!validate) {
    throw new CommandFailed(`compile --validate is not available for ${project.target.type} targets: the ${project.target.type} adapter cannot check SQL without running it. Run 'fsql compile' without --validate.`);
  }
  const results = new Array<ViewCheck>(names.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < names.length; i = next++) {
      const view = c.manifest.views[names[i]];
      try {
        const v = await validate(view.compiled_sql, { label: view.file });
        const scan = v.bytesProcessed === undefined ? '' : `: would scan ${formatBytes(v.bytesProcessed)}`;
        results[i] = { name: view.name, file: view.file, status: 'ok', method: v.method, bytesProcessed: v.bytesProcessed, message: `(${v.method})${scan}` };
      } catch (e) {
        if (!(e instanceof FsqlError)) throw e;
        const { sql, sourceLines } = c.renderer.render({ view: project.views.get(view.name)! });
        results[i] = { name: view.name, file: view.file, status: 'error', message: pointAtSource(e.message, view.file, sql, sourceLines) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, names.length)) }, worker));
  return results;
}

/** 1234567 -> `1.2 MiB (1234567 bytes)` */
export function formatBytes(bytes: bigint): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Number(bytes);
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[u]} (${bytes} bytes)`;
}
