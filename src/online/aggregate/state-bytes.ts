/**
 * The values of an encoded aggregate state (state.ts encodeState): numbers in 8-byte slots, written
 * as base64, then a space, then the state's strings one after another, so a read decodes the slots
 * with one native base64 call and takes each string as a slice of the stored text, with no
 * JSON.parse (which had been most of a request's CPU: CONTEXT.md).
 *
 * A slot is a little-endian float64 (the same bytes on every machine): a time, a count or a value.
 * Two NaNs with a payload mark what a float64 cannot hold: NULL, and an int64 beyond 2^53, whose
 * bits follow in the next slot; a float's NaN is written as the canonical NaN, so it never reads as
 * either. A string's slot is its length in the strings, negative for a JSON string literal (any
 * string with a character outside printable ASCII, as JSON.stringify escapes it, non-ASCII as \u
 * escapes), so the whole text is ASCII and holds no newline. A change to this format must change
 * codec.ts STATE_ENCODING, which layouts' fingerprints name: states in the old one are then refused.
 */
import { asciiJson } from '../codec.js';
import { AsciiWriter } from '../ascii-writer.js';
import type { ScalarType } from '../../values.js';
import type { AggInput } from './state.js';

/** The high word of the NaNs below; their low words tell them apart (a float NaN is written with 0). */
const NAN_HIGH = 0x7ff80000;
const NULL_LOW = 1;
const BIG_LOW = 2;

/**
 * Slots are written through a DataView over a buffer of its own: through an AsciiWriter's buffer
 * and Buffer.writeDoubleLE, encoding bench/aggregate-online's hot user took 36 µs against 31.
 */
export class StateWriter {
  private slots = Buffer.allocUnsafeSlow(1 << 16);
  private view = new DataView(this.slots.buffer, this.slots.byteOffset, this.slots.length);
  private at = 0;
  private readonly strings = new AsciiWriter();

  /** Starts a new text. */
  reset(): void {
    this.at = 0;
    this.strings.at = 0;
  }

  private room(): void {
    if (this.at + 16 <= this.slots.length) return;
    const bigger = Buffer.allocUnsafeSlow(this.slots.length * 2);
    this.slots.copy(bigger, 0, 0, this.at);
    this.slots = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }

  /** A time or a count (a number, exact as a float64). */
  num(n: number): void {
    this.room();
    this.view.setFloat64(this.at, n, true);
    this.at += 8;
  }

  private nan(low: number): void {
    this.room();
    this.view.setUint32(this.at, low, true);
    this.view.setUint32(this.at + 4, NAN_HIGH, true);
    this.at += 8;
  }

  value(v: AggInput | null): void {
    if (v === null) return this.nan(NULL_LOW);
    switch (typeof v) {
      case 'number':
        return v === v ? this.num(v) : this.nan(0);
      case 'bigint':
        if (Number.isSafeInteger(Number(v))) return this.num(Number(v));
        this.nan(BIG_LOW);
        this.room();
        this.view.setBigInt64(this.at, v, true);
        this.at += 8;
        return;
      case 'string':
        return this.num(writeString(this.strings, v));
      default:
        return this.num(v ? 1 : 0);
    }
  }

  /** The slots in base64, a space, the strings. */
  toString(): string {
    return `${this.slots.toString('base64', 0, this.at)} ${this.strings.toString()}`;
  }
}

/** A string as it goes into the strings: its characters when all are printable ASCII, else its JSON literal. Returns what its slot holds. */
function writeString(w: AsciiWriter, v: string): number {
  if (w.plain(v, false)) return v.length;
  const start = w.at;
  w.text(asciiJson(JSON.stringify(v)));
  return start - w.at;
}

/** Reads the values StateWriter wrote, in the order it wrote them, from `text` between `from` and `end`. */
export class StateReader {
  private readonly view: DataView;
  private at = 0;
  /** where the next string starts in the text */
  private str: number;

  constructor(
    private readonly text: string,
    from: number,
    end: number,
  ) {
    const space = text.indexOf(' ', from);
    if (space < 0 || space > end) throw new Error("an aggregate state is not in the online store's format (no space)");
    const slots = Buffer.from(text.slice(from, space), 'base64');
    this.view = new DataView(slots.buffer, slots.byteOffset, slots.length);
    this.str = space + 1;
  }

  num(): number {
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    return n;
  }

  value(type: ScalarType): AggInput | null {
    const x = this.num();
    if (x !== x && this.view.getUint32(this.at - 4, true) === NAN_HIGH) {
      const low = this.view.getUint32(this.at - 8, true);
      if (low === NULL_LOW) return null;
      if (low === BIG_LOW) {
        const b = this.view.getBigInt64(this.at, true);
        this.at += 8;
        return b;
      }
    }
    switch (type) {
      case 'int64':
      case 'timestamp':
        return BigInt(x);
      case 'float64':
        return x;
      case 'string': {
        const start = this.str;
        if (x >= 0) return this.text.slice(start, (this.str += x));
        return JSON.parse(this.text.slice(start, (this.str -= x))) as string;
      }
      default:
        return x === 1;
    }
  }
}
