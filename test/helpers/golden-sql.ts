import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** Asserts `text` equals the golden file `root/path`; UPDATE_GOLDEN=1 rewrites the file instead. */
export function matchGolden(root: string, path: string, text: string): void {
  const file = join(root, path);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  assert.ok(existsSync(file), `missing golden file ${file}; run with UPDATE_GOLDEN=1`);
  assert.equal(text, readFileSync(file, 'utf8'), `${path} differs from its golden file`);
}
