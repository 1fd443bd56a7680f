/** YAML files read with their line numbers, so every complaint can point at the line. */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isNode, type Node } from 'yaml';
import { ProjectError } from '../errors.js';

export class YamlFile {
  private constructor(
    readonly file: string,
    readonly value: unknown,
    private readonly doc: ReturnType<typeof parseDocument>,
    private readonly lines: LineCounter,
  ) {}

  /** `file` is the path shown in messages; `absPath` the one read. */
  static read(file: string, absPath: string, text = readFileSync(absPath, 'utf8')): YamlFile {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = lines.linePos(e.pos[0]).line;
      throw new ProjectError(file, `invalid YAML: ${e.message.split('\n')[0]}. Fix the syntax on this line.`, line);
    }
    return new YamlFile(file, doc.toJS({ mapAsMap: false }) ?? {}, doc, lines);
  }

  /** The line of the node at `path` (keys and indexes), or of its nearest existing parent. */
  line(path: (string | number)[]): number | undefined {
    let node: unknown = this.doc.contents;
    let best: number | undefined = this.lineOf(node);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isNode(p.key) ? (p.key as { value?: unknown }).value : p.key) === key);
        if (!pair) break;
        best = this.lineOf(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        best = this.lineOf(node) ?? best;
      } else break;
    }
    return best;
  }

  error(path: (string | number)[], detail: string): ProjectError {
    return new ProjectError(this.file, detail, this.line(path));
  }

  private lineOf(node: unknown): number | undefined {
    const range = isNode(node) ? (node as Node).range : undefined;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }
}
