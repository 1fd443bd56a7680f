/**
 * From the parse tree to the typed tree (tree.ts): names resolved to input slots, functions and
 * their arguments checked, output types inferred. int64 and float64 mix as float64 (the int64
 * side wrapped in `toFloat`); nothing else converts without a CAST. Errors carry the line and
 * column of the offending node.
 */
import { didYouMean } from '../closest-name.js';
import { ExpressionError } from './lexer.js';
import { INT64_MAX, type Expr, type ExprType, type FunctionName, type InputRef, type Pos, type SelectItem, type Typed } from './tree.js';

/** A name as written: `name` (request field) or `qualifier.name` (stored feature). */
export interface NameUse {
  qualifier?: string;
  name: string;
  pos: Pos;
}

/**
 * Finds what a name refers to. `type` undefined: the input exists but its type is not known yet
 * (a stored feature before its view's table is built); the expressions are then checked for
 * names and functions only (checkNames).
 */
export type Resolver = (use: NameUse) => { view?: string; name: string; type?: ExprType };

/** The arity of each function: [min, max]. */
export const FUNCTIONS: Record<FunctionName, [number, number]> = {
  abs: [1, 1], sign: [1, 1], round: [1, 1], floor: [1, 1], ceil: [1, 1], sqrt: [1, 1], ln: [1, 1], exp: [1, 1], power: [2, 2],
  least: [2, Infinity], greatest: [2, Infinity], lower: [1, 1], upper: [1, 1], length: [1, 1], substr: [2, 3], concat: [1, Infinity],
  coalesce: [1, Infinity], nullif: [2, 2],
};

/** The casts that mean the same on every warehouse (SPEC section 10; semantics in evaluate.ts). */
const CASTS: Record<ExprType, ExprType[]> = {
  int64: ['float64', 'string', 'boolean'],
  float64: ['int64'],
  string: ['int64'],
  boolean: ['int64', 'string'],
  timestamp: [],
};

/** Checks every name and function of the items, without types. Throws ExpressionError. */
export function checkNames(items: SelectItem[], resolve: Resolver): void {
  checkOutputNames(items);
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'literal':
        return;
      case 'name':
        resolve({ qualifier: e.qualifier, name: e.name, pos: e });
        return;
      case 'call':
        functionOf(e);
        e.args.forEach(walk);
        return;
      case 'unary': case 'isNull': case 'cast': case 'extract':
        return walk(e.arg);
      case 'binary':
        walk(e.left);
        return walk(e.right);
      case 'in':
        walk(e.arg);
        return e.list.forEach(walk);
      case 'between':
        [e.arg, e.low, e.high].forEach(walk);
        return;
      case 'case':
        if (e.subject) walk(e.subject);
        e.whens.forEach((w) => (walk(w.when), walk(w.then)));
        if (e.otherwise) walk(e.otherwise);
    }
  };
  items.forEach((i) => walk(i.expr));
}

/** How an error says a stored feature's type is not known (compile leaves such outputs untyped). */
export const NOT_KNOWN_YET = 'is not known yet';

export interface TypedItem {
  name: string;
  type: ExprType;
  expr: Typed;
  pos: Pos;
}

export interface TypedSelect {
  items: TypedItem[];
  /** the inputs, by slot */
  inputs: InputRef[];
}

/** Types the items; every input's type must be known. Throws ExpressionError. */
export function typeSelect(items: SelectItem[], resolve: Resolver): TypedSelect {
  checkOutputNames(items);
  const inputs: InputRef[] = [];
  const slots = new Map<string, number>();
  const input = (e: Extract<Expr, { kind: 'name' }>): Typed => {
    const ref = resolve({ qualifier: e.qualifier, name: e.name, pos: e });
    if (!ref.type) throw new ExpressionError(e, `the type of ${show(e)} ${NOT_KNOWN_YET}; build its view first (fsql run).`);
    const key = `${ref.view ?? ''}.${ref.name}`;
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = inputs.length;
      slots.set(key, slot);
      inputs.push({ view: ref.view, name: ref.name, type: ref.type });
    }
    return { kind: 'input', type: ref.type, slot };
  };
  const out = items.map((item): TypedItem => {
    const t = new Checker(input).type(item.expr);
    if (t.type === NULL) throw new ExpressionError(item.pos, `cannot tell the type of '${item.name}' (it is NULL); write CAST(NULL AS <type>).`);
    return { name: item.name, type: t.type as ExprType, expr: t as Typed, pos: item.pos };
  });
  return { items: out, inputs };
}

function checkOutputNames(items: SelectItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name.toLowerCase())) throw new ExpressionError(item.pos, `output '${item.name}' is named twice; give each output its own name.`);
    seen.add(item.name.toLowerCase());
  }
}

function functionOf(e: Extract<Expr, { kind: 'call' }>): FunctionName {
  const arity = FUNCTIONS[e.name as FunctionName];
  if (!arity) throw new ExpressionError(e, `unknown function '${e.name}'.${didYouMean(e.name, Object.keys(FUNCTIONS))} Functions: ${Object.keys(FUNCTIONS).join(', ')}.`);
  const [min, max] = arity;
  if (e.args.length < min || e.args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
    throw new ExpressionError(e, `${e.name}() takes ${want} argument${min === 1 && max === 1 ? '' : 's'}, not ${e.args.length}.`);
  }
  return e.name as FunctionName;
}

function show(e: Expr): string {
  return e.kind === 'name' ? `'${e.qualifier ? `${e.qualifier}.` : ''}${e.name}'` : 'the expression';
}

/** The type of an untyped NULL while checking; settled by its context. */
const NULL = 'null' as const;
type Node = Typed | { kind: 'literal'; type: typeof NULL; value: null };
const isNumeric = (t: string) => t === 'int64' || t === 'float64';

class Checker {
  constructor(private readonly input: (e: Extract<Expr, { kind: 'name' }>) => Typed) {}

  type(e: Expr): Node {
    switch (e.kind) {
      case 'literal':
        if (e.value === null) return { kind: 'literal', type: NULL, value: null };
        if (typeof e.value === 'bigint') {
          if (e.value > INT64_MAX) throw new ExpressionError(e, `integer ${e.value} does not fit in int64; write it as a float (${e.value}.0).`);
          return { kind: 'literal', type: 'int64', value: e.value };
        }
        return { kind: 'literal', type: typeof e.value === 'number' ? 'float64' : typeof e.value === 'string' ? 'string' : 'boolean', value: e.value };
      case 'name':
        return this.input(e);
      case 'unary': {
        const arg = this.type(e.arg);
        if (e.op === 'not') return { kind: 'not', type: 'boolean', arg: this.as(arg, 'boolean', e.arg, 'NOT') };
        const n = this.numeric([arg], [e.arg], 'unary -');
        return { kind: 'neg', type: n.type, arg: n.args[0] };
      }
      case 'binary': {
        const left = this.type(e.left);
        const right = this.type(e.right);
        if (e.op === 'and' || e.op === 'or') return { kind: e.op, type: 'boolean', args: [this.as(left, 'boolean', e.left, e.op.toUpperCase()), this.as(right, 'boolean', e.right, e.op.toUpperCase())] };
        if (e.op === '||') return { kind: 'call', type: 'string', name: 'concat', args: [this.as(left, 'string', e.left, '||'), this.as(right, 'string', e.right, '||')] };
        if (e.op === '+' || e.op === '-' || e.op === '*') {
          const n = this.numeric([left, right], [e.left, e.right], `'${e.op}'`);
          return { kind: 'arith', type: n.type, op: e.op, left: n.args[0], right: n.args[1] };
        }
        if (e.op === '/') {
          this.numeric([left, right], [e.left, e.right], "'/'");
          return { kind: 'arith', type: 'float64', op: '/', left: this.as(left, 'float64', e.left, "'/'"), right: this.as(right, 'float64', e.right, "'/'") };
        }
        if (e.op === '%') return { kind: 'arith', type: 'int64', op: '%', left: this.as(left, 'int64', e.left, "'%'"), right: this.as(right, 'int64', e.right, "'%'") };
        const [l, r] = this.unify([left, right], [e.left, e.right], `'${e.op}'`);
        const t = l.type as ExprType;
        if (t === 'boolean' && e.op !== '=' && e.op !== '<>') throw new ExpressionError(e, `booleans compare with = and <> only, not '${e.op}'.`);
        return { kind: 'compare', type: 'boolean', op: e.op, left: l, right: r };
      }
      case 'isNull': {
        const arg = this.type(e.arg);
        return { kind: 'isNull', type: 'boolean', arg: arg.type === NULL ? { kind: 'literal', type: 'boolean', value: null } : arg, negated: e.negated };
      }
      case 'in': {
        const all = this.unify([this.type(e.arg), ...e.list.map((x) => this.type(x))], [e.arg, ...e.list], 'IN');
        return { kind: 'in', type: 'boolean', arg: all[0], list: all.slice(1), negated: e.negated };
      }
      case 'between': {
        const [arg, low, high] = this.unify([this.type(e.arg), this.type(e.low), this.type(e.high)], [e.arg, e.low, e.high], 'BETWEEN');
        if (arg.type === 'boolean') throw new ExpressionError(e, 'BETWEEN compares numbers, strings or timestamps, not booleans.');
        const within: Typed = { kind: 'and', type: 'boolean', args: [{ kind: 'compare', type: 'boolean', op: '>=', left: arg, right: low }, { kind: 'compare', type: 'boolean', op: '<=', left: arg, right: high }] };
        return e.negated ? { kind: 'not', type: 'boolean', arg: within } : within;
      }
      case 'case':
        return this.caseOf(e);
      case 'cast': {
        const arg = this.type(e.arg);
        if (arg.type === NULL) return { kind: 'literal', type: e.to, value: null };
        if (arg.type === e.to) return arg;
        if (!CASTS[arg.type].includes(e.to)) {
          throw new ExpressionError(e, `CAST from ${arg.type} to ${e.to} is not in the language (it differs between warehouses). Casts: ${Object.entries(CASTS).flatMap(([f, tos]) => tos.map((t) => `${f}->${t}`)).join(', ')}.`);
        }
        return { kind: 'cast', type: e.to, arg };
      }
      case 'extract':
        return { kind: 'extract', type: 'int64', field: e.field, arg: this.as(this.type(e.arg), 'timestamp', e.arg, 'EXTRACT') };
      case 'call':
        return this.call(e);
    }
  }

  private caseOf(e: Extract<Expr, { kind: 'case' }>): Node {
    const subject = e.subject && this.type(e.subject);
    const whens = e.whens.map((w) => {
      if (!subject) return this.as(this.type(w.when), 'boolean', w.when, 'CASE WHEN');
      const [l, r] = this.unify([subject, this.type(w.when)], [e.subject!, w.when], 'CASE x WHEN');
      return { kind: 'compare', type: 'boolean', op: '=', left: l, right: r } as Typed;
    });
    const valueExprs = [...e.whens.map((w) => w.then), ...(e.otherwise ? [e.otherwise] : [])];
    const nodes = valueExprs.map((x) => this.type(x));
    if (nodes.every((n) => n.type === NULL)) return { kind: 'literal', type: NULL, value: null };
    const values = this.unify(nodes, valueExprs, 'CASE results');
    const type = values[0].type;
    const otherwise: Typed = e.otherwise ? values.at(-1)! : { kind: 'literal', type, value: null };
    return { kind: 'case', type, whens: whens.map((when, i) => ({ when, then: values[i] })), otherwise };
  }

  private call(e: Extract<Expr, { kind: 'call' }>): Node {
    const name = functionOf(e);
    const args = e.args.map((a) => this.type(a));
    const what = `${name}()`;
    switch (name) {
      case 'abs': case 'sign': case 'round': case 'floor': case 'ceil': {
        const n = this.numeric(args, e.args, what);
        return { kind: 'call', type: n.type, name, args: n.args };
      }
      case 'sqrt': case 'ln': case 'exp': case 'power':
        this.numeric(args, e.args, what);
        return { kind: 'call', type: 'float64', name, args: args.map((a, i) => this.as(a, 'float64', e.args[i], what)) };
      case 'least': case 'greatest': case 'coalesce': case 'nullif': {
        if (args.every((a) => a.type === NULL)) {
          if (name === 'coalesce' || name === 'nullif') return { kind: 'literal', type: NULL, value: null };
          throw new ExpressionError(e, `cannot tell the type of ${what}'s arguments (all NULL); write CAST(NULL AS <type>).`);
        }
        const all = this.unify(args, e.args, what);
        if (all[0].type === 'boolean' && (name === 'least' || name === 'greatest')) throw new ExpressionError(e, `${what} takes numbers, strings or timestamps, not booleans.`);
        return { kind: 'call', type: all[0].type, name, args: all };
      }
      case 'lower': case 'upper':
        return { kind: 'call', type: 'string', name, args: [this.as(args[0], 'string', e.args[0], what)] };
      case 'length':
        return { kind: 'call', type: 'int64', name, args: [this.as(args[0], 'string', e.args[0], what)] };
      case 'substr':
        return { kind: 'call', type: 'string', name, args: args.map((a, i) => this.as(a, i === 0 ? 'string' : 'int64', e.args[i], `${what} argument ${i + 1}`)) };
      case 'concat':
        return { kind: 'call', type: 'string', name, args: args.map((a, i) => this.as(a, 'string', e.args[i], what)) };
    }
  }

  /** Numeric operands: all int64, or float64 with the int64 ones converted. */
  private numeric(args: Node[], exprs: Expr[], what: string): { type: 'int64' | 'float64'; args: Typed[] } {
    args.forEach((a, i) => {
      if (a.type !== NULL && !isNumeric(a.type)) throw new ExpressionError(exprs[i], `${what} takes numbers, not ${a.type} (${describe(exprs[i])}).`);
    });
    const type = args.some((a) => a.type === 'float64') ? 'float64' : 'int64';
    return { type, args: args.map((a, i) => this.as(a, type, exprs[i], what)) };
  }

  /** One common type for all: int64 with float64 gives float64; NULLs take it; else the types must be equal. */
  private unify(args: Node[], exprs: Expr[], what: string): Typed[] {
    const typed = args.filter((a) => a.type !== NULL);
    // all NULL: the result is NULL whatever the type (callers that output the type check first)
    if (typed.length === 0) return args.map(() => ({ kind: 'literal', type: 'int64', value: null }));
    const types = new Set(typed.map((a) => a.type));
    const target = types.size === 2 && types.has('int64') && types.has('float64') ? 'float64' : typed[0].type;
    return args.map((a, i) => this.as(a, target as ExprType, exprs[i], what));
  }

  /** `a` as `type`: a NULL literal takes it, int64 converts to float64, anything else is an error. */
  private as(a: Node, type: ExprType, e: Expr, what: string): Typed {
    if (a.type === type) return a as Typed;
    if (a.type === NULL) return { kind: 'literal', type, value: null };
    if (a.type === 'int64' && type === 'float64') {
      if (a.kind === 'literal' && typeof a.value === 'bigint') return { kind: 'literal', type: 'float64', value: Number(a.value) };
      return { kind: 'toFloat', type: 'float64', arg: a };
    }
    throw new ExpressionError(e, `${what} needs ${type} here, but ${describe(e)} is ${a.type}${a.type === 'string' || type === 'string' ? '; convert it with CAST(... AS ...)' : ''}.`);
  }
}

function describe(e: Expr): string {
  if (e.kind === 'name') return `'${e.qualifier ? `${e.qualifier}.` : ''}${e.name}'`;
  if (e.kind === 'literal') return typeof e.value === 'string' ? `'${e.value}'` : String(e.value);
  return 'this operand';
}
