/** Tokens of the expression language, each with its line and column in the file. */
import type { Pos } from './tree.js';

export type TokenKind = 'ident' | 'int' | 'float' | 'string' | 'op' | 'end';

export interface Token extends Pos {
  kind: TokenKind;
  /** identifiers in lower case (keywords are identifiers); the text of literals and operators */
  text: string;
  /** an identifier as written (for messages and output names) */
  raw: string;
}

/** An error at a place in the expression text: the caller adds the file. */
export class ExpressionError extends Error {
  constructor(
    readonly pos: Pos,
    readonly detail: string,
  ) {
    super(`line ${pos.line}, column ${pos.column}: ${detail}`);
  }
}

const OPERATORS = ['<>', '!=', '<=', '>=', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.'];

/** Splits `text` (which starts at `start` in its file) into tokens; comments (`--`, `/* *\/`) are skipped. */
export function tokenize(text: string, start: Pos = { line: 1, column: 1 }): Token[] {
  const out: Token[] = [];
  let line = start.line;
  let lineStart = -(start.column - 1);
  let i = 0;
  const pos = (at: number): Pos => ({ line, column: at - lineStart + 1 });
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (text.startsWith('--', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const p = pos(i);
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new ExpressionError(p, 'a comment /* is never closed with */.');
      for (let j = i; j < end; j++) if (text[j] === '\n') { line++; lineStart = j + 1; }
      i = end + 2;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      out.push({ kind: 'ident', text: m.toLowerCase(), raw: m, ...pos(i) });
      i += m.length;
    } else if (c === '"') {
      const p = pos(i);
      const end = text.indexOf('"', i + 1);
      if (end < 0 || text.slice(i + 1, end).includes('\n')) throw new ExpressionError(p, 'a quoted name "... is never closed.');
      const name = text.slice(i + 1, end);
      out.push({ kind: 'ident', text: name.toLowerCase(), raw: name, ...p });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i))![0];
      if (/[A-Za-z_]/.test(text[i + m.length] ?? '')) throw new ExpressionError(pos(i), `'${m}${text[i + m.length]}' is not a number; put a space or an operator after a number.`);
      out.push({ kind: /[.eE]/.test(m) ? 'float' : 'int', text: m, raw: m, ...pos(i) });
      i += m.length;
    } else if (c === "'") {
      const p = pos(i);
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new ExpressionError(p, "a string ' is never closed; end it with '.");
        if (text[j] === "'") {
          if (text[j + 1] === "'") { s += "'"; j += 2; continue; }
          break;
        }
        if (text[j] === '\n') { line++; lineStart = j + 1; }
        s += text[j++];
      }
      out.push({ kind: 'string', text: s, raw: s, ...p });
      i = j + 1;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) throw new ExpressionError(pos(i), `unexpected character '${c}'.`);
      out.push({ kind: 'op', text: op === '!=' ? '<>' : op, raw: op, ...pos(i) });
      i += op.length;
    }
  }
  out.push({ kind: 'end', text: '', raw: '', ...pos(i) });
  return out;
}
