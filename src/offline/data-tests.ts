/** `fsql test`: runs the data tests of the selected views and reports each failure. */
import { compileProject, type Compilation } from '../compiler/compile.js';
import { selectViews } from '../compiler/select.js';
import { renderDataTest } from '../dialects/data-tests.js';
import { FsqlError } from '../errors.js';
import type { Logger } from '../log.js';
import { dataTestsFor } from '../plans/data-tests.js';
import type { Project } from '../project/types.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export interface DataTestResult {
  name: string;
  view: string;
  status: 'pass' | 'fail' | 'error';
  failures: number;
  message: string;
}

export async function runDataTests(project: Project, wh: Warehouse, log: Logger, select?: string[], compiled?: Compilation): Promise<DataTestResult[]> {
  const c = compiled ?? (await compileProject(project));
  const results: DataTestResult[] = [];
  for (const name of selectViews(project.views, c.dag, select)) {
    const view = project.views.get(name)!;
    for (const t of dataTestsFor(view, c.manifest.views[name].table)) {
      const file = view.docFile ?? view.file;
      let r: DataTestResult;
      try {
        const [row] = await wh.query(renderDataTest(t, wh.dialect, file), { label: `${file} (${t.name})` });
        const failures = Number(Object.values(row ?? {})[0] ?? 0);
        r = { name: t.name, view: name, status: failures === 0 ? 'pass' : 'fail', failures, message: failures === 0 ? 'PASS' : `${failures} failing rows` };
      } catch (e) {
        if (!(e instanceof FsqlError)) throw e;
        r = { name: t.name, view: name, status: 'error', failures: 0, message: e.message };
      }
      results.push(r);
      const line = `${r.status.toUpperCase().padEnd(5)} ${r.name}${r.status === 'pass' ? '' : `: ${r.message}`}`;
      if (r.status === 'pass') log.info(line, { test: r.name, status: r.status });
      else log.error(line, { test: r.name, status: r.status, failures: r.failures });
    }
  }
  return results;
}
