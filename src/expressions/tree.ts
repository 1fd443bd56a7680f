/**
 * The expression language of SPEC section 10 as two trees: `Expr`, what the parser read (with the
 * line and column of every node, for errors), and `Typed`, what the checker made of it (every name
 * resolved to an input slot, every node typed, int64/float64 mixes made explicit). The server's
 * evaluator (evaluate.ts) and the SQL of every dialect (dialects/expression-sql.ts) both come from
 * the typed tree, so they cannot disagree on what an expression means.
 */
export type ExprType = 'int64' | 'float64' | 'string' | 'boolean' | 'timestamp';
export const EXPR_TYPES: ExprType[] = ['int64', 'float64', 'string', 'boolean', 'timestamp'];

export interface Pos {
  line: number;
  column: number;
}

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type ExtractField = 'hour' | 'dayofweek' | 'day' | 'month';
export const EXTRACT_FIELDS: ExtractField[] = ['hour', 'dayofweek', 'day', 'month'];

/** The parse tree. */
export type Expr = Pos &
  (
    | { kind: 'literal'; value: bigint | number | string | boolean | null }
    /** `name` (a request field) or `qualifier.name` (a stored feature) */
    | { kind: 'name'; qualifier?: string; name: string }
    | { kind: 'unary'; op: '-' | 'not'; arg: Expr }
    | { kind: 'binary'; op: ArithOp | CompareOp | 'and' | 'or' | '||'; left: Expr; right: Expr }
    | { kind: 'isNull'; arg: Expr; negated: boolean }
    | { kind: 'in'; arg: Expr; list: Expr[]; negated: boolean }
    | { kind: 'between'; arg: Expr; low: Expr; high: Expr; negated: boolean }
    | { kind: 'case'; subject?: Expr; whens: { when: Expr; then: Expr }[]; otherwise?: Expr }
    | { kind: 'cast'; arg: Expr; to: ExprType }
    | { kind: 'extract'; field: ExtractField; arg: Expr }
    | { kind: 'call'; name: string; args: Expr[] }
  );

/** One output of an on-demand view: `<expr> as <name>`. */
export interface SelectItem {
  name: string;
  expr: Expr;
  pos: Pos;
}

/** Functions of the language, by name (lower case). */
export type FunctionName =
  | 'abs' | 'sign' | 'round' | 'floor' | 'ceil' | 'sqrt' | 'ln' | 'exp' | 'power'
  | 'least' | 'greatest' | 'lower' | 'upper' | 'length' | 'substr' | 'concat' | 'coalesce' | 'nullif';

/** The typed tree: names are input slots, int64 operands of float64 operations are wrapped in `toFloat`. */
export type Typed =
  | { kind: 'literal'; type: ExprType; value: bigint | number | string | boolean | null }
  | { kind: 'input'; type: ExprType; slot: number }
  | { kind: 'toFloat'; type: 'float64'; arg: Typed }
  | { kind: 'neg'; type: 'int64' | 'float64'; arg: Typed }
  | { kind: 'arith'; type: 'int64' | 'float64'; op: ArithOp; left: Typed; right: Typed }
  | { kind: 'compare'; type: 'boolean'; op: CompareOp; left: Typed; right: Typed }
  | { kind: 'and' | 'or'; type: 'boolean'; args: Typed[] }
  | { kind: 'not'; type: 'boolean'; arg: Typed }
  | { kind: 'isNull'; type: 'boolean'; arg: Typed; negated: boolean }
  | { kind: 'in'; type: 'boolean'; arg: Typed; list: Typed[]; negated: boolean }
  | { kind: 'case'; type: ExprType; whens: { when: Typed; then: Typed }[]; otherwise: Typed }
  | { kind: 'cast'; type: ExprType; arg: Typed }
  | { kind: 'extract'; type: 'int64'; field: ExtractField; arg: Typed }
  | { kind: 'call'; type: ExprType; name: FunctionName; args: Typed[] };

/** A name an expression reads: a request field, or `<view>.<feature>`. */
export interface InputRef {
  /** undefined: a request field */
  view?: string;
  name: string;
  type: ExprType;
}

/** Limits every side applies alike (semantics.ts says what each means). */
export const FLOAT_MAX = 1.7976931348623157e308;
export const FLOAT_MIN_NORMAL = 2.2250738585072014e-308;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** exp(x) is NULL above this (ln of FLOAT_MAX) and 0 below EXP_MIN (no subnormal results, which PostgreSQL refuses). */
export const EXP_MAX = 709.782712893384;
export const EXP_MIN = -708.3964185322641;
/** power(x, y) is NULL when |y| exceeds this (y * ln|x| must stay finite on every warehouse). */
export const POWER_MAX_EXPONENT = 1e300;
