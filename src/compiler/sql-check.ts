/**
 * Checks compiled SQL without a warehouse, with the target's own rules: DuckDB's parser (an
 * in-memory instance, no data) for DuckDB, authoritative; node-sql-parser's grammar of the
 * warehouse for the others, as warnings. Both read the output columns where they can.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbApi } from '../duckdb-api.js';
import { dialectFor } from '../dialects/index.js';
import { renderFileProbe } from '../dialects/queries.js';

/** What DuckDB's binder finds wrong with a view, at a line of its compiled SQL. */
export interface BindError {
  message: string;
  line?: number;
}

export interface ParseResult {
  error?: { message: string; line?: number };
  /** output column names of the final SELECT, when they can be read statically */
  columns?: string[];
}

/** The schema of the bind check's copies of the sources. */
const SOURCES_SCHEMA = 'fsql_bind_sources';

export class DuckDbParser {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(): Promise<DuckDbParser> {
    const instance = await duckdbApi.DuckDBInstance.create(':memory:');
    return new DuckDbParser(await instance.connect());
  }

  /** Parses many statements in one query: one round trip for a whole project. */
  async parseAll(sqls: string[]): Promise<ParseResult[]> {
    if (sqls.length === 0) return [];
    const reader = await this.conn.runAndReadAll('select json_serialize_sql(s) from unnest($1::varchar[]) with ordinality as t(s, i) order by i', [
      duckdbApi.listValue(sqls),
    ]);
    return reader.getRows().map((row, i) => toResult(sqls[i], JSON.parse(String(row[0]))));
  }

  /**
   * Binds each view, in dependency order, against what exists here: the files sources read by
   * path, and the views bound before it. Only a binder error is the view's own fault (a column
   * that is not there, a type that does not fit); a table this empty database lacks (a source in
   * the warehouse) or a file not there yet leaves the view, and the views on it, unchecked.
   * `files`: the paths sources read; each one there is read once into an empty table of its
   * columns, which the views are bound against in its place (binding a view on the file itself
   * sniffed the file again for every view: 38 ms a view, against 0.5).
   */
  async bindViews(views: { schema: string; relation: string; sql: string }[], files: string[]): Promise<(BindError | undefined)[]> {
    const out: (BindError | undefined)[] = [];
    const d = dialectFor('duckdb');
    for (const schema of new Set(views.map((v) => v.schema))) await this.conn.run(d.createSchema(schema));
    const read = await this.readFiles(files);
    for (const v of views) {
      try {
        await this.conn.run(d.createViewAs(v.relation, read.reduce((sql, [text, table]) => sql.split(text).join(table), v.sql)));
        out.push(undefined);
      } catch (e) {
        const message = String((e as Error).message);
        const line = /\nLINE (\d+):/.exec(message)?.[1];
        out.push(message.startsWith('Binder Error:') ? { message: message.split('\n\nLINE')[0].replace(/^Binder Error: /, '').replace(/\n/g, ' '), line: line === undefined ? undefined : Number(line) - 1 } : undefined);
      }
    }
    return out;
  }

  /**
   * Each file there as [the text that reads it, an empty table of its columns]. One text is never
   * part of another (each quotes its whole path), so the order they are replaced in does not matter.
   */
  private async readFiles(files: string[]): Promise<[string, string][]> {
    const d = dialectFor('duckdb');
    const read: [string, string][] = [];
    const paths = [...new Set(files)];
    if (paths.length > 0) await this.conn.run(d.createSchema(SOURCES_SCHEMA));
    for (const [i, path] of paths.entries()) {
      const table = d.relation({ schema: SOURCES_SCHEMA, name: `s${i}` });
      try {
        for (const statement of d.createTableAs(table, renderFileProbe(d, path))) await this.conn.run(statement);
        read.push([d.readFile(path), table]);
      } catch {
        // not there yet (a file an earlier step writes): its views are bound on it, and left unchecked
      }
    }
    return read;
  }

  /**
   * Whether two SELECTs compute the same apart from the `added` output columns: their parse
   * trees, with those select items and all source positions left out, are equal (SQLMesh's way
   * of telling an added column from a changed query).
   */
  async sameQueryApartFrom(before: string, after: string, added: string[]): Promise<boolean> {
    const reader = await this.conn.runAndReadAll('select json_serialize_sql($1::varchar), json_serialize_sql($2::varchar)', [before, after]);
    const [a, b] = reader.getRows()[0].map((j) => JSON.parse(String(j)));
    if (a.error || b.error) return false;
    const drop = new Set(added.map((c) => c.toLowerCase()));
    const tree = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(tree);
      if (!node || typeof node !== 'object') return node;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        if (k === 'query_location') continue;
        out[k] = k === 'select_list' && Array.isArray(v) ? v.filter((item: { alias?: string }) => !drop.has(String(item.alias ?? '').toLowerCase())).map(tree) : tree(v);
      }
      return out;
    };
    return JSON.stringify(tree(a)) === JSON.stringify(tree(b));
  }

  close(): void {
    this.conn.closeSync();
  }
}

function toResult(sql: string, json: { error?: boolean; error_message?: string; position?: string; statements: { node: SelectNode }[] }): ParseResult {
    if (json.error) {
      const pos = json.position === undefined ? undefined : Number(json.position);
      return { error: { message: String(json.error_message), line: pos === undefined ? undefined : sql.slice(0, pos).split('\n').length } };
    }
    if (json.statements.length !== 1) return { error: { message: `a feature view is one SELECT statement; found ${json.statements.length} statements` } };
    return { columns: selectColumns(json.statements[0].node) };
}

interface SelectNode {
  type: string;
  left?: SelectNode;
  select_list?: { class: string; alias: string; column_names?: string[] }[];
}

function selectColumns(node: SelectNode): string[] | undefined {
  if (node.type === 'SET_OPERATION_NODE' && node.left) return selectColumns(node.left);
  if (node.type !== 'SELECT_NODE' || !node.select_list) return undefined;
  const names: string[] = [];
  for (const item of node.select_list) {
    if (item.alias) names.push(item.alias);
    else if (item.class === 'COLUMN_REF' && item.column_names) names.push(item.column_names[item.column_names.length - 1]);
    else return undefined;
  }
  return names;
}


/**
 * The warehouse's own parser, where one runs here: BigQuery's grammar on ZetaSQL (the
 * devDependency; see compiler/zetasql/CONTEXT.md). Undefined when the grammar has none, or when
 * ZetaSQL is not installed (a production install): callers then rely on node-sql-parser.
 */
export async function referenceParse(
  grammar: string,
  statements: { sql: string; file: string; lineOffset: number }[],
): Promise<{ parser: string; problems: { file?: string; line?: number; message: string }[] } | undefined> {
  if (grammar !== 'bigquery') return undefined;
  const { parseBigQuery } = await import('./zetasql/analyze-bigquery.js');
  const { ZetaSqlNotInstalled } = await import('./zetasql/server.js');
  try {
    return { parser: "ZetaSQL (BigQuery's grammar)", problems: await parseBigQuery(statements) };
  } catch (e) {
    if (e instanceof ZetaSqlNotInstalled) return undefined;
    throw e;
  }
}
