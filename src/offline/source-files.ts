/**
 * Checks the files that `path:` sources point at before any view reads them, so a wrong path or a
 * file DuckDB cannot parse is one error naming the YAML entry, not one engine dump per view.
 */
import { renderFileProbe } from '../dialects/queries.js';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { ProjectError } from '../errors.js';
import { displayPath } from '../project/profiles.js';
import type { Project, SourceTable } from '../project/types.js';
import type { Warehouse } from '../warehouse/warehouse.js';

const HEAD_BYTES = 1 << 20;

/** Each file source named (by source key) is read once for no rows; the first that fails throws. */
export async function checkSourceFiles(project: Project, wh: Warehouse, sourceKeys: Iterable<string>): Promise<void> {
  if (!wh.dialect.readsFiles) return;
  for (const key of new Set(sourceKeys)) {
    const s = project.sources.get(key);
    if (!s?.path) continue;
    const shown = displayPath(project.dir, s.path);
    const entry = `source '${s.source}' table '${s.name}'`;
    if (!/[*?[{]/.test(s.path) && !existsSync(s.path)) {
      throw new ProjectError(s.file, `${entry}: path '${shown}' is not a file (looked for ${s.path}). Fix path: here; a relative path is read from the project folder.`, s.line);
    }
    try {
      await wh.query(renderFileProbe(wh.dialect, s.path));
    } catch (e) {
      throw new ProjectError(s.file, `${entry}: DuckDB cannot read '${shown}': ${firstLine(e)}.${hint(s)}`, s.line);
    }
  }
}

function firstLine(e: unknown): string {
  const message = String((e as Error).message ?? e).replace(/^.*?DuckDB: /s, '');
  return message.split('\n')[0].replace(/[.\s]+$/, '');
}

/** What to do about a CSV file DuckDB could not sniff: mixed line endings are the usual cause. */
function hint(s: SourceTable): string {
  if (!/\.csv$/i.test(s.path!) || !existsSync(s.path!)) return ' Check the file and the path: entry.';
  const head = readHead(s.path!);
  const crlf = (head.match(/\r\n/g) ?? []).length;
  const lf = (head.match(/\n/g) ?? []).length - crlf;
  if (crlf > 0 && lf > 0) {
    return ` The file mixes \\r\\n (${crlf}) and \\n (${lf}) line endings in its first ${HEAD_BYTES / 1024} KiB; convert it to one, for example with dos2unix.`;
  }
  return ' Check that it is a comma-separated file with a header row in UTF-8.';
}

function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
