/**
 * Renders feature view templates with nunjucks (autoescape off). Built-ins and user macros are
 * environment globals; what varies per render (this, is_incremental, the range) lives in `state`,
 * which the globals read, so a macro calling ref() or this sees the view being rendered.
 */
import nunjucks from 'nunjucks';
import { CompileError } from '../errors.js';
import { parseDuration, DURATION_HELP } from '../duration.js';
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import { TRUNC_UNITS, type TruncUnit } from '../dialects/dialect.js';
import { envVar, renderErrorMessage } from '../project/env-var.js';
import { sourceKey, type Project, type SourceTable, type ViewDef } from '../project/types.js';
import { Timestamp, type ScalarType } from '../values.js';

export interface RenderRequest {
  view: ViewDef;
  /** set for an incremental run: the range of output rows being rebuilt */
  incremental?: TimeRange;
}

export interface Rendered {
  sql: string;
  /** lines of the .sql file before the compiled SQL's first line (the config call, blank lines) */
  lineOffset: number;
  refs: string[];
  sources: string[];
}

const SCALAR_TYPES: ScalarType[] = ['int64', 'float64', 'string', 'boolean', 'timestamp'];

/** Raised inside a template global; carries the message to the user unchanged. */
class TemplateError extends Error {}

export class TemplateRenderer {
  private readonly env: nunjucks.Environment;
  private state: { view?: ViewDef; incremental?: TimeRange; refs: Set<string>; sources: Set<string> } = { refs: new Set(), sources: new Set() };

  constructor(
    private readonly project: Project,
    readonly dialect: Dialect,
  ) {
    this.env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
    this.addGlobals();
    this.loadMacros();
  }

  tableOf(viewName: string): RelationName {
    return this.dialect.tableIn(this.project.target, viewName);
  }

  relationOf(viewName: string): string {
    return this.dialect.relation(this.tableOf(viewName));
  }

  /**
   * A source's relation. On DuckDB a `path:` source reads its file by absolute path (DuckDB would
   * resolve a relative one against the working directory, not the project); on warehouses a
   * missing database or schema is the target's, as in dbt.
   */
  sourceRelation(s: SourceTable): string {
    if (s.path && this.dialect.readsFiles) return this.dialect.readFile(s.path);
    return this.dialect.relation(this.dialect.sourceTable(this.project.target, s));
  }

  render(req: RenderRequest): Rendered {
    const { view } = req;
    this.state = { view, incremental: req.incremental, refs: new Set(), sources: new Set() };
    this.env.addGlobal('this', this.relationOf(view.name));
    let sql: string;
    try {
      sql = this.env.renderString(view.sql, {});
    } catch (e) {
      const line = /\[Line (\d+)/.exec(String((e as Error).message))?.[1];
      throw new CompileError(`${view.file}${line ? `:${Number(line) + 1}` : ''}: ${renderErrorMessage(e)}`);
    }
    const tidied = sql.replace(/[ \t]+$/gm, '').trimEnd();
    const body = tidied.replace(/^\n+/, '');
    return { sql: `${body}\n`, lineOffset: tidied.length - body.length, refs: [...this.state.refs], sources: [...this.state.sources] };
  }

  private addGlobals(): void {
    const p = this.project;
    const d = this.dialect;
    const width = (w: unknown, fn: string): number => {
      const s = parseDuration(w);
      if (s === undefined) throw new TemplateError(`${fn}(): width must be ${DURATION_HELP}, not '${String(w)}'`);
      return s;
    };
    const globals: Record<string, unknown> = {
      config: () => '',
      var: (name: string, fallback?: unknown) => {
        if (name in p.vars) return p.vars[name];
        if (fallback === undefined) throw new TemplateError(`var('${name}') is not set; add it under vars: in fsql_project.yml, pass --vars '{${name}: ...}', or give a default`);
        return fallback;
      },
      env_var: envVar,
      target: { name: p.target.name, type: p.target.type, schema: p.target.schema, database: p.target.database ?? '', threads: p.target.threads, profile_name: p.profileName },
      project_name: p.name,
      source: (source: string, table: string) => {
        const s = p.sources.get(sourceKey(source, table));
        if (!s) {
          const known = [...p.sources.keys()].join(', ') || 'none defined';
          throw new TemplateError(`source('${source}', '${table}') is not defined; add it under sources: in a YAML file. Sources: ${known}`);
        }
        this.state.sources.add(sourceKey(source, table));
        return this.sourceRelation(s);
      },
      ref: (name: string) => {
        if (!p.views.has(name)) throw new TemplateError(`ref('${name}') names no feature view. Views: ${[...p.views.keys()].join(', ')}`);
        if (name === this.state.view?.name) throw new TemplateError(`ref('${name}') refers to the view itself; use {{ this }} for the view's own table`);
        this.state.refs.add(name);
        return this.relationOf(name);
      },
      is_incremental: () => this.state.incremental !== undefined,
      incremental_start: (w: unknown = 0) => {
        const start = this.state.incremental?.start;
        if (!start) throw new TemplateError('incremental_start() is only defined in an incremental run; guard it with {% if is_incremental() %}');
        return d.timestampLiteral(start.plusSeconds(-width(w, 'incremental_start')));
      },
      rolling_window: (partition: string, timeColumn: string, w: unknown) => d.rollingWindow(partition, timeColumn, width(w, 'rolling_window')),
      time_sub: (expr: string, w: unknown) => d.timeSub(expr, width(w, 'time_sub')),
      time_add: (expr: string, w: unknown) => d.timeAdd(expr, width(w, 'time_add')),
      seconds_between: (start: string, end: string) => d.secondsBetween(start, end),
      safe_divide: (a: string, b: string) => d.safeDivide(a, b),
      cast_as: (expr: string, type: string) => {
        if (!SCALAR_TYPES.includes(type as ScalarType)) throw new TemplateError(`cast_as(): type must be one of ${SCALAR_TYPES.join(', ')}, not '${type}'`);
        return d.castTo(expr, type as ScalarType);
      },
      date_trunc: (unit: string, expr: string) => {
        if (!TRUNC_UNITS.includes(unit as TruncUnit)) throw new TemplateError(`date_trunc(): unit must be one of ${TRUNC_UNITS.join(', ')}, not '${unit}'`);
        return d.dateTrunc(unit as TruncUnit, expr);
      },
      timestamp_literal: (text: string) => {
        const ts = Timestamp.parse(String(text));
        if (!ts) throw new TemplateError(`timestamp_literal(): '${text}' is not an ISO 8601 timestamp`);
        return d.timestampLiteral(ts);
      },
      quote: (name: string) => d.quoteIdent(name),
    };
    for (const [name, value] of Object.entries(globals)) this.env.addGlobal(name, value);
  }

  /** User macros from macros/: each file's macros become globals every template can call. */
  private loadMacros(): void {
    for (const m of this.project.macros) {
      let exported: Record<string, unknown>;
      try {
        exported = getExported(new nunjucks.Template(m.text, this.env, m.file, true));
      } catch (e) {
        const line = /\[Line (\d+)/.exec(String((e as Error).message))?.[1];
        throw new CompileError(`${m.file}${line ? `:${Number(line) + 1}` : ''}: ${renderErrorMessage(e)}`);
      }
      for (const [name, fn] of Object.entries(exported)) this.env.addGlobal(name, fn);
    }
  }
}

function getExported(tmpl: nunjucks.Template): Record<string, unknown> {
  let result: Record<string, unknown> = {};
  let error: Error | null = null;
  (tmpl as unknown as { getExported(cb: (e: Error | null, r: Record<string, unknown>) => void): void }).getExported((e, r) => {
    error = e;
    result = r;
  });
  if (error) throw error;
  return result;
}
