/**
 * `fsql compile --strict` for BigQuery: resolves the compiled statements on ZetaSQL with BigQuery's
 * language options, against the tables they read, and lists what it rejects by file, line and column.
 * Needs the devDependency @fivetrandevelopers/zetasql; throws ZetaSqlError when it cannot run.
 */
import { ZetaSqlClient, bareName, type ClientOptions, type ZetaColumn, type ZetaTable } from './client.js';

export interface BigQueryStatement {
  /** one statement, or several separated by `;` */
  sql: string;
  /** the file the statement came from, echoed in problems */
  file?: string;
  /** lines of the file before the statement's first line, added to the problem's line */
  lineOffset?: number;
  /** the table this statement's query fills (a view's relation): its output columns join the catalog for later statements */
  produces?: string;
}

export interface BigQueryTable {
  /** `project.dataset.table`, with or without backticks */
  name: string;
  columns: ZetaColumn[];
}

export interface BigQueryProblem {
  file?: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * Parses each statement with BigQuery's grammar (no catalog needed: what `compile --strict` checks
 * when the tables' columns are not declared). Returns one problem per statement it rejects.
 */
export async function parseBigQuery(statements: BigQueryStatement[], opts: ClientOptions = {}): Promise<BigQueryProblem[]> {
  const client = await ZetaSqlClient.start(opts);
  try {
    const problems: BigQueryProblem[] = [];
    for (const s of statements) {
      const problem = await client.parse(s.sql);
      if (problem) problems.push({ file: s.file, line: problem.line === undefined ? undefined : problem.line + (s.lineOffset ?? 0), column: problem.column, message: problem.message });
    }
    return problems;
  } finally {
    await client.close();
  }
}

/**
 * Analyzes the statements in order (put a view after the views it reads). Returns one problem per
 * statement ZetaSQL rejects, none when all resolve. Starts a server unless `client` is given.
 */
export async function analyzeBigQuery(statements: BigQueryStatement[], tables: BigQueryTable[], opts: ClientOptions & { client?: ZetaSqlClient } = {}): Promise<BigQueryProblem[]> {
  const client = opts.client ?? (await ZetaSqlClient.start(opts));
  const catalog = new Map<string, ZetaTable>(tables.map((t) => [bareName(t.name).toLowerCase(), t]));
  const problems: BigQueryProblem[] = [];
  try {
    for (const s of statements) {
      const { statements: resolved, problem } = await client.analyze(s.sql, [...catalog.values()]);
      if (problem) {
        const line = problem.line === undefined ? undefined : problem.line + (s.lineOffset ?? 0);
        problems.push({ file: s.file, line, column: problem.column, message: problem.message });
        continue;
      }
      const columns = resolved[resolved.length - 1]?.columns;
      if (s.produces && columns) catalog.set(bareName(s.produces).toLowerCase(), { name: s.produces, columns });
    }
  } finally {
    if (!opts.client) await client.close();
  }
  return problems;
}
