/**
 * A recursive-descent parser for the expression language of SPEC section 10 (an on-demand view's
 * `select <expr> as <name>, ...` with no FROM). Precedence, loosest first: OR; AND; NOT;
 * comparisons, IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN; `||`; `+ -`; `* / %`; unary minus.
 * (`||` binds looser than `+` as in PostgreSQL; the SQL rendered for any warehouse is fully
 * parenthesised, so its own precedence never matters.)
 */
import { ExpressionError, tokenize, type Token } from './lexer.js';
import { EXPR_TYPES, EXTRACT_FIELDS, type CompareOp, type Expr, type ExprType, type ExtractField, type Pos, type SelectItem } from './tree.js';

type BinaryOp = Extract<Expr, { kind: 'binary' }>['op'];

const TYPE_NAMES: Record<string, ExprType> = {
  int64: 'int64', bigint: 'int64', integer: 'int64', int: 'int64',
  float64: 'float64', double: 'float64', float: 'float64',
  string: 'string', varchar: 'string', text: 'string',
  boolean: 'boolean', bool: 'boolean',
  timestamp: 'timestamp',
};
const COMPARE = new Set(['=', '<>', '<', '<=', '>', '>=']);
/** Words that end an expression or belong to a construct; never read as a name. */
const RESERVED = new Set(['select', 'from', 'where', 'as', 'and', 'or', 'not', 'is', 'in', 'between', 'case', 'when', 'then', 'else', 'end', 'cast', 'extract', 'null', 'true', 'false']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private get t(): Token {
    return this.tokens[this.i];
  }
  private at(text: string, kind: Token['kind'] = text.match(/^[a-z]/) ? 'ident' : 'op'): boolean {
    return this.t.kind === kind && this.t.text === text;
  }
  private accept(text: string): boolean {
    if (!this.at(text)) return false;
    this.i++;
    return true;
  }
  private expect(text: string, what = `'${text}'`): Token {
    if (!this.at(text)) throw this.error(`expected ${what}, found ${this.describe()}.`);
    return this.tokens[this.i++];
  }
  describe(t: Token = this.t): string {
    return t.kind === 'end' ? 'the end of the text' : t.kind === 'string' ? `'${t.text}'` : `'${t.raw}'`;
  }
  error(detail: string, pos: Pos = this.t): ExpressionError {
    return new ExpressionError({ line: pos.line, column: pos.column }, detail);
  }

  selectList(): SelectItem[] {
    this.expect('select', "'select' (an on-demand view is select <expression> as <name>, ... with no FROM)");
    const items: SelectItem[] = [];
    do {
      const pos = { line: this.t.line, column: this.t.column };
      const expr = this.expr();
      if (!this.accept('as')) {
        if (this.at('from')) throw this.error('an on-demand view has no FROM: its expressions read request fields by name and stored features as <view>.<feature>.');
        throw this.error(`expected 'as <name>' after the expression, found ${this.describe()}: every output needs a name.`);
      }
      const name = this.t;
      if (name.kind !== 'ident') throw this.error(`expected an output name after 'as', found ${this.describe()}.`);
      this.i++;
      items.push({ name: name.raw, expr, pos });
    } while (this.accept(','));
    this.accept(';');
    if (this.t.kind !== 'end') {
      if (this.at('from')) throw this.error('an on-demand view has no FROM: its expressions read request fields by name and stored features as <view>.<feature>.');
      throw this.error(`expected ',' or the end of the SELECT, found ${this.describe()}.`);
    }
    return items;
  }

  expr(): Expr {
    return this.or();
  }

  wholeExpression(): Expr {
    const e = this.expr();
    if (this.t.kind !== 'end') throw this.error(`expected the end of the expression, found ${this.describe()}.`);
    return e;
  }

  /** A left-associative chain of binary operators `ops` over `next`. */
  private chain(ops: string[], next: () => Expr): Expr {
    let left = next();
    while (ops.some((o) => this.at(o))) {
      const p = this.tokens[this.i++];
      // a binary node is placed where its left operand starts, which is where messages point
      left = { kind: 'binary', op: p.text as BinaryOp, left, right: next(), line: left.line, column: left.column };
    }
    return left;
  }

  private or(): Expr {
    return this.chain(['or'], () => this.chain(['and'], () => this.not()));
  }

  private not(): Expr {
    if (this.at('not')) {
      const p = this.tokens[this.i++];
      return { kind: 'unary', op: 'not', arg: this.not(), line: p.line, column: p.column };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.concat();
    const p = { line: this.t.line, column: this.t.column };
    if (this.t.kind === 'op' && COMPARE.has(this.t.text)) {
      const op = this.tokens[this.i++].text as CompareOp;
      return { kind: 'binary', op, left, right: this.concat(), ...p };
    }
    if (this.accept('is')) {
      const negated = this.accept('not');
      this.expect('null', "'null' after IS (only IS [NOT] NULL exists)");
      return { kind: 'isNull', arg: left, negated, ...p };
    }
    const negated = this.at('not') && (this.tokens[this.i + 1].text === 'in' || this.tokens[this.i + 1].text === 'between') ? (this.i++, true) : false;
    if (this.accept('in')) {
      this.expect('(', "'(' after IN");
      const list = [this.expr()];
      while (this.accept(',')) list.push(this.expr());
      this.expect(')', "')' closing the IN list");
      return { kind: 'in', arg: left, list, negated, ...p };
    }
    if (this.accept('between')) {
      const low = this.concat();
      this.expect('and', "'and' in BETWEEN low AND high");
      return { kind: 'between', arg: left, low, high: this.concat(), negated, ...p };
    }
    return left;
  }

  private concat(): Expr {
    return this.chain(['||'], () => this.chain(['+', '-'], () => this.chain(['*', '/', '%'], () => this.unary())));
  }

  private unary(): Expr {
    const p = this.t;
    if (this.accept('-')) {
      const next = this.t;
      // -9223372036854775808 is a literal, not the negation of one that does not fit
      if (next.kind === 'int' && !['*', '/', '%'].includes(this.tokens[this.i + 1].text)) {
        const arg = this.primary();
        if (arg.kind === 'literal' && typeof arg.value === 'bigint') return { ...arg, value: -arg.value, line: p.line, column: p.column };
      }
      return { kind: 'unary', op: '-', arg: this.unary(), line: p.line, column: p.column };
    }
    if (this.accept('+')) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const t = this.t;
    const p = { line: t.line, column: t.column };
    if (t.kind === 'int') {
      this.i++;
      // range checked once the sign is known (unary), and here for positive literals
      const value = BigInt(t.text);
      if (value > 2n ** 63n) throw this.error(`integer ${t.text} does not fit in int64; write it as a float (${t.text}.0).`, t);
      return { kind: 'literal', value, ...p };
    }
    if (t.kind === 'float') {
      this.i++;
      const value = Number(t.text);
      if (!Number.isFinite(value)) throw this.error(`number ${t.text} is beyond the float64 range.`, t);
      return { kind: 'literal', value, ...p };
    }
    if (t.kind === 'string') {
      this.i++;
      return { kind: 'literal', value: t.text, ...p };
    }
    if (this.accept('(')) {
      const e = this.expr();
      this.expect(')', "')'");
      return e;
    }
    if (t.kind !== 'ident') throw this.error(`expected an expression, found ${this.describe()}.`);
    if (this.accept('null')) return { kind: 'literal', value: null, ...p };
    if (this.accept('true')) return { kind: 'literal', value: true, ...p };
    if (this.accept('false')) return { kind: 'literal', value: false, ...p };
    if (this.accept('case')) return this.caseExpr(p);
    if (this.accept('cast')) {
      this.expect('(', "'(' after CAST");
      const arg = this.expr();
      this.expect('as', "'as <type>' in CAST");
      const name = this.t;
      const to = name.kind === 'ident' ? TYPE_NAMES[name.text] : undefined;
      if (!to) throw this.error(`unknown type ${this.describe()}; CAST takes ${EXPR_TYPES.filter((x) => x !== 'timestamp').join(', ')}.`);
      this.i++;
      this.expect(')', "')' closing CAST");
      return { kind: 'cast', arg, to, ...p };
    }
    if (this.accept('extract')) {
      this.expect('(', "'(' after EXTRACT");
      const f = this.t;
      if (f.kind !== 'ident' || !EXTRACT_FIELDS.includes(f.text as ExtractField)) throw this.error(`EXTRACT takes ${EXTRACT_FIELDS.join(', ')}, not ${this.describe()}.`);
      this.i++;
      this.expect('from', "'from' in EXTRACT(field FROM timestamp)");
      const arg = this.expr();
      this.expect(')', "')' closing EXTRACT");
      return { kind: 'extract', field: f.text as ExtractField, arg, ...p };
    }
    if (RESERVED.has(t.text)) {
      throw this.error(`expected an expression, found the keyword ${this.describe()}.`);
    }
    this.i++;
    if (this.accept('(')) {
      const args: Expr[] = [];
      if (!this.at(')')) {
        do args.push(this.expr());
        while (this.accept(','));
      }
      this.expect(')', `')' closing ${t.raw}(`);
      return { kind: 'call', name: t.text, args, ...p };
    }
    if (this.accept('.')) {
      const n = this.t;
      if (n.kind !== 'ident') throw this.error(`expected a feature name after '${t.raw}.', found ${this.describe()}.`);
      this.i++;
      return { kind: 'name', qualifier: t.raw, name: n.raw, ...p };
    }
    return { kind: 'name', name: t.raw, ...p };
  }

  private caseExpr(p: Pos): Expr {
    const subject = this.at('when') ? undefined : this.expr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.accept('when')) {
      const when = this.expr();
      this.expect('then', "'then' after CASE ... WHEN <condition>");
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) throw this.error(`expected 'when' in CASE, found ${this.describe()}.`);
    const otherwise = this.accept('else') ? this.expr() : undefined;
    this.expect('end', "'end' closing CASE");
    return { kind: 'case', subject, whens, otherwise, line: p.line, column: p.column };
  }
}

/** Parses an on-demand view's SELECT (the text after its config call, starting at `start` in the file). */
export function parseSelectList(text: string, start?: Pos): SelectItem[] {
  return new Parser(tokenize(text, start)).selectList();
}

/** Parses one expression (tests, and `fsql` messages). */
export function parseExpression(text: string): Expr {
  return new Parser(tokenize(text)).wholeExpression();
}
