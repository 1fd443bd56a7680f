/**
 * Statements of a golden SQL file. Statements end with `;` at a line end; a block of them starts
 * with `-- title` lines (which inline comments inside a statement never precede).
 */
export function splitGolden(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/;\n/)) {
    const lines = part.replace(/^\n+/, '').split('\n');
    while (lines.length > 0 && lines[0].startsWith('-- ')) lines.shift();
    const stmt = lines.join('\n').replace(/\s+$/, '');
    if (stmt) out.push(stmt);
  }
  return out;
}
