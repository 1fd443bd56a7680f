/**
 * Which line of a template produced each line of its rendered SQL, so that an error the engine
 * reports on the compiled SQL points at the .sql file's line.
 *
 * Before rendering, a marker naming the source line is put in front of each newline of the
 * template's text (never inside a tag, and never in whitespace that `{%-` or `-%}` would strip,
 * so the rendered SQL is unchanged once the markers are taken out). A rendered line comes from
 * the source line of the first marker at or after its start: text a tag or macro expands to
 * belongs to the line the tag ends on.
 */
import nunjucks from 'nunjucks';

const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARKER = /\uE000(\d+)\uE001/g;

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}

interface Lexer {
  lex(src: string, opts: object): { nextToken(): Token | null };
}

/** The template with a marker before each newline of its text; undefined when it cannot be lexed. */
export function markLines(src: string): string | undefined {
  let tokens: Token[];
  try {
    const tokenizer = (nunjucks as unknown as { lexer: Lexer }).lexer.lex(src, {});
    tokens = [];
    for (let t = tokenizer.nextToken(); t; t = tokenizer.nextToken()) tokens.push(t);
  } catch {
    return undefined;
  }
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') lineStarts.push(i + 1);
  const inserts: { at: number; line: number }[] = [];
  tokens.forEach((t, i) => {
    if (t.type !== 'data') return;
    // Whitespace control strips the text's leading (after `-%}`) or trailing (before `{%-`) white space.
    const lstripped = i > 0 && tokens[i - 1].value.startsWith('-');
    const rstripped = i + 1 < tokens.length && tokens[i + 1].value.endsWith('-');
    const lo = lstripped ? t.value.search(/\S/) : 0;
    const hi = rstripped ? t.value.search(/\S\s*$/) : t.value.length;
    const start = lineStarts[t.lineno] + t.colno;
    let line = t.lineno + 1;
    for (let j = 0; j < t.value.length; j++) {
      if (t.value[j] !== '\n') continue;
      if (lo >= 0 && hi >= 0 && j >= lo && j < hi) inserts.push({ at: start + j, line });
      line++;
    }
  });
  let out = '';
  let from = 0;
  for (const { at, line } of inserts) {
    out += `${src.slice(from, at)}${OPEN}${line}${CLOSE}`;
    from = at;
  }
  return out + src.slice(from);
}

/** The rendered text without markers, and for each of its lines the source line it came from. */
export function unmark(rendered: string, lastLine: number): { text: string; lines: number[] } {
  const rows = rendered.split('\n');
  const lines = new Array<number>(rows.length);
  let next = lastLine;
  for (let i = rows.length - 1; i >= 0; i--) {
    const found = [...rows[i].matchAll(MARKER)];
    if (found.length > 0) next = Number(found[0][1]);
    lines[i] = next;
  }
  return { text: rendered.replace(MARKER, ''), lines };
}

/** Markers left in a message (an error quoting template text) taken out. */
export function withoutMarkers(text: string): string {
  return text.replace(MARKER, '');
}

/**
 * The source line of the compiled line an engine's error quotes (DuckDB: `LINE 5: sum(amont) ...`;
 * BigQuery, as fsql reports it: `line 5 of the statement: ...`), found by its text in the view's
 * compiled SQL, since the statement run wraps the SELECT in more lines of its own.
 */
export function sourceLineOfError(message: string, sql: string, sourceLines: number[]): number | undefined {
  const quoted = /(?:^LINE \d+|line \d+ of the statement): (.*)$/m.exec(message)?.[1];
  if (!quoted) return undefined;
  const text = quoted.replace(/\.\.\.$|…$/, '').trim();
  if (text === '') return undefined;
  const rows = sql.split('\n');
  const hits = rows.flatMap((row, i) => (row.trim().startsWith(text) || (text.length > 20 && row.includes(text)) ? [i] : []));
  return hits.length === 1 ? sourceLines[hits[0]] : undefined;
}

/** `file: engine message` as `file:line: engine message` when the line the engine quotes is found. */
export function pointAtSource(message: string, file: string, sql: string, sourceLines: number[]): string {
  const line = sourceLineOfError(message, sql, sourceLines);
  return line !== undefined && message.startsWith(`${file}: `) ? `${file}:${line}: ${message.slice(file.length + 2)}` : message;
}
