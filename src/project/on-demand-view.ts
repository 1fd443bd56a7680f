/**
 * Reads a `materialized='on_demand'` view (SPEC section 10): its config (inputs, docs) and its
 * SELECT of expressions with no FROM, parsed once here (expressions/parser.ts). Other views'
 * configs are view-config.ts's.
 */
import { ProjectError } from '../errors.js';
import { ExpressionError } from '../expressions/lexer.js';
import { parseSelectList } from '../expressions/parser.js';
import type { OnDemandView } from './types.js';
import { readConfigCall } from './view-config.js';

const ON_DEMAND_KEYS = ['materialized', 'inputs', 'description', 'owner', 'tags'];

/** The view, or undefined when its config does not say materialized='on_demand'. */
export function readOnDemandView(file: string, absPath: string, name: string, call: { text: string; line: number; body: string }, vars: Record<string, unknown>): OnDemandView | undefined {
  const raw = readConfigCall(file, call.text, call.line, vars);
  if (raw.materialized !== 'on_demand') return undefined;
  const err = (detail: string) => new ProjectError(file, `config ${detail}`, call.line);
  for (const key of Object.keys(raw)) {
    if (!ON_DEMAND_KEYS.includes(key)) throw err(`has key '${key}', which an on-demand view does not take. Keys: ${ON_DEMAND_KEYS.join(', ')}.`);
  }
  const list = (key: string): string[] => {
    const v = raw[key] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw err(`'${key}' must be a list of names, such as ['txn_request', 'user_spend'].`);
    return v as string[];
  };
  const text = (key: string): string => {
    const v = raw[key] ?? '';
    if (typeof v !== 'string') throw err(`'${key}' must be a string.`);
    return v;
  };
  const inputs = list('inputs');
  if (inputs.length === 0) throw err("needs inputs=['<request source or feature view>', ...]: what its expressions read.");
  let items;
  try {
    items = parseSelectList(call.body);
  } catch (e) {
    throw expressionError(file, e);
  }
  return { name, file, absPath, inputs, items, description: text('description'), owner: text('owner'), tags: list('tags'), line: call.line };
}

/** An ExpressionError as a ProjectError at its file and line (the column in the message). */
export function expressionError(file: string, e: unknown): unknown {
  if (!(e instanceof ExpressionError)) return e;
  return new ProjectError(file, `column ${e.pos.column}: ${e.detail}`, e.pos.line);
}
