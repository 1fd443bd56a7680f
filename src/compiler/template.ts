/**
 * Renders feature view templates with nunjucks (autoescape off). Built-ins and user macros are
 * environment globals; what varies per render (this, is_incremental, the range) lives in `state`,
 * which the globals read, so a macro calling ref() or this sees the view being rendered.
 */
import nunjucks from 'nunjucks';
import { CompileError } from '../errors.js';
import { parseDuration, DURATION_HELP } from '../duration.js';
import { closestName, didYouMean } from '../closest-name.js';
import { markLines, unmark, withoutMarkers } from './source-lines.js';
import type { Dialect } from '../dialects/dialect.js';
import type { RelationName, TimeRange } from '../plans/relation.js';
import { TRUNC_UNITS, WINDOW_ENDS, type TruncUnit, type WindowEnd } from '../dialects/dialect.js';
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
  /** for each line of `sql`, the line of the .sql file it was rendered from */
  sourceLines: number[];
  refs: string[];
  sources: string[];
}

/** nunjucks' own globals, left out of the list of helpers an error suggests */
const NUNJUCKS_GLOBALS = ['range', 'cycler', 'joiner'];
/** The .sql file's line of line `line` (from 1) of a rendered SELECT. */
export function sourceLine(r: Rendered, line: number): number {
  return r.sourceLines[line - 1] ?? line + r.lineOffset;
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
    const marked = markLines(view.sql);
    const template = this.compileTemplate(marked ?? view.sql, view.file);
    let out: string;
    try {
      out = template.render({});
    } catch (e) {
      throw this.templateError(view.file, e, 'render');
    }
    const { text, lines } = marked === undefined ? { text: out, lines: [] } : unmark(out, view.sql.split('\n').length);
    const tidied = text.replace(/[ \t]+$/gm, '').trimEnd();
    const body = tidied.replace(/^\n+/, '');
    const lineOffset = tidied.length - body.length;
    return {
      sql: `${body}\n`,
      lineOffset,
      sourceLines: lines.length > 0 ? lines.slice(lineOffset, lineOffset + body.split('\n').length) : body.split('\n').map((_, i) => i + 1 + lineOffset),
      refs: [...this.state.refs],
      sources: [...this.state.sources],
    };
  }

  private compileTemplate(src: string, file: string): nunjucks.Template {
    try {
      return new nunjucks.Template(src, this.env, file, true);
    } catch (e) {
      throw this.templateError(file, e, 'parse');
    }
  }

  /**
   * A nunjucks error as file:line and what to do. Its parser counts lines from 1, its runtime from 0.
   * A call of an unknown name (a misspelt macro) suggests the closest known one.
   */
  private templateError(file: string, e: unknown, stage: 'parse' | 'render'): CompileError {
    const raw = withoutMarkers(String((e as Error).message));
    const line = /\[Line (\d+)/.exec(raw)?.[1];
    const at = line === undefined ? '' : `:${Number(line) + (stage === 'render' ? 1 : 0)}`;
    const unknown = /Unable to call `([^`]+)`, which is undefined or falsey/.exec(raw)?.[1];
    if (unknown) {
      const globals = (this.env as unknown as { globals: Record<string, unknown> }).globals;
      const known = Object.keys(globals).filter((k) => typeof globals[k] === 'function' && !NUNJUCKS_GLOBALS.includes(k));
      return new CompileError(
        `${file}${at}: '${unknown}' is not a macro or function.${didYouMean(unknown, known)} Built-in helpers and the macros in ${this.project.macroPaths.join(', ')}/: ${known.sort().join(', ')}.`,
      );
    }
    return new CompileError(`${file}${at}: ${renderErrorMessage(new Error(raw))}`);
  }

  private addGlobals(): void {
    const p = this.project;
    const d = this.dialect;
    const width = (w: unknown, fn: string): number => {
      const s = parseDuration(w);
      if (s === undefined) throw new TemplateError(`${fn}(): width must be ${DURATION_HELP}, not '${String(w)}'`);
      return s;
    };
    const closestSource = (source: string, table: string): string => {
      const key = closestName(sourceKey(source, table), p.sources.keys());
      const s = key === undefined ? undefined : p.sources.get(key)!;
      return s ? ` Did you mean source('${s.source}', '${s.name}')?` : '';
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
          throw new TemplateError(`source('${source}', '${table}') is not defined; add it under sources: in a YAML file.${closestSource(source, table)} Sources: ${known}`);
        }
        this.state.sources.add(sourceKey(source, table));
        return this.sourceRelation(s);
      },
      ref: (name: string) => {
        if (!p.views.has(name)) throw new TemplateError(`ref('${name}') names no feature view.${didYouMean(name, p.views.keys())} Views: ${[...p.views.keys()].join(', ')}`);
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
      rolling_window: (partition: string, timeColumn: string, w: unknown, end: unknown = 'current') => {
        if (!WINDOW_ENDS.includes(end as WindowEnd)) throw new TemplateError(`rolling_window(): the 4th argument must be ${WINDOW_ENDS.map((e) => `'${e}'`).join(' or ')} (the window ends at the current row, or just before its time), not '${String(end)}'`);
        return d.rollingWindow(partition, timeColumn, width(w, 'rolling_window'), end as WindowEnd);
      },
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
      const template = this.compileTemplate(m.text, m.file);
      try {
        exported = getExported(template);
      } catch (e) {
        throw this.templateError(m.file, e, 'render');
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
