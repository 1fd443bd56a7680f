/**
 * C's distinct values of a string column as the sync query gives them: JSON text (the dialect's
 * jsonText), kept as text when it is already what encodeState writes for them, so a sync makes no
 * string per value and sorts nothing (CONTEXT.md: the lists' strings, their sort and their JSON had
 * been about a third of a sync's JavaScript). That is the case when the text is compact, every value
 * is printable ASCII without a quote or a backslash (its JSON is itself in quotes), and the values
 * ascend in JavaScript's order. Any other text (escapes, non-ASCII, another order or spacing, as
 * each warehouse may write them) is parsed and sorted instead (`distinctStrings`): the stored
 * bytes are the same either way.
 */
import { CLOSE, COMMA, NOT_JSON_PLAIN_TEXT, OPEN, QUOTE } from '../ascii-writer.js';
import type { AggInput } from './state.js';

export class DistinctText {
  /** `starts[k]`: where value k's characters start in `text` (after its opening quote). */
  private constructor(
    readonly text: string,
    private readonly starts: number[],
  ) {}

  /** The text as a DistinctText when it is already in the stored form, else undefined. */
  static of(text: string): DistinctText | undefined {
    const n = text.length;
    if (n < 2 || text.charCodeAt(0) !== OPEN || text.charCodeAt(n - 1) !== CLOSE || NOT_JSON_PLAIN_TEXT.test(text)) return undefined;
    const starts: number[] = [];
    if (n === 2) return new DistinctText(text, starts);
    let previous = '';
    // with no backslash, every quote opens or closes a value: a quote, its characters, a quote, then
    // a comma and the next or the closing bracket; ascending is checked on slices (comparing them
    // in place, character by character, took longer)
    for (let at = 1; ; ) {
      if (text.charCodeAt(at) !== QUOTE || at >= n - 1) return undefined;
      const end = text.indexOf('"', at + 1);
      if (end < 0) return undefined;
      const value = text.slice(at + 1, end);
      if (starts.length > 0 && !(previous < value)) return undefined;
      previous = value;
      starts.push(at + 1);
      const next = text.charCodeAt(end + 1);
      if (next === CLOSE && end + 2 === n) break;
      if (next !== COMMA) return undefined;
      at = end + 2;
    }
    return new DistinctText(text, starts);
  }

  /** How many values. */
  get length(): number {
    return this.starts.length;
  }

  /** Whether `v` is one of the values (a binary search: they ascend). */
  has(v: AggInput | null): boolean {
    if (typeof v !== 'string') return false;
    const { text, starts } = this;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const value = text.slice(starts[mid], mid + 1 < starts.length ? starts[mid + 1] - 3 : text.length - 2);
      if (value === v) return true;
      if (value < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** The string values of a JSON array text in JavaScript's order (a text DistinctText.of did not take). */
export function distinctStrings(text: string): string[] {
  const values = JSON.parse(text) as unknown;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new Error(`the aggregate sync query's distinct values are not a JSON array of strings: ${text.slice(0, 80)}`);
  return (values as string[]).sort();
}
