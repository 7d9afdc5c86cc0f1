/**
 * Byte-level CSV/TSV tokenizer and column builders: the fast path of the CSV reader. Records
 * are cut from a Buffer without decoding it; numbers are parsed from their bytes, texts are
 * decoded once per cell of a text column only.
 *
 * The rules are csv-parse's with the options the reader has always used (`trim`,
 * `skip_empty_lines`, `relax_column_count`, quote `"` for CSV and none for TSV): whitespace
 * around a field (outside quotes) is trimmed, a line of whitespace is skipped, `""` inside a
 * quoted field is a `"`, a quoted field may hold delimiters and newlines, a record ends at LF
 * or CRLF (or at CR in a file whose first line ends with a bare CR). A record's line is the
 * file line where it ends (csv-parse's `info.lines`, which counts a CRLF inside quotes as two). A quote where CSV does not allow one
 * throws {@link QuoteError}: the reader then lets csv-parse word the message.
 */
import { NUMBER_PATTERN } from './values.js';
import type { NumericColumn, TabularColumn } from './columns.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** A quote where CSV does not allow one (csv-parse's message is taken for it). */
export class QuoteError extends Error {}

/** Field flags. */
const QUOTED = 1;
const ESCAPED = 2;
const WIDE_EDGE = 4;

/** Whitespace that csv-parse trims, beyond ASCII (decoded fields only). */
const UNICODE_TRIM = /^[\s\u0085\u180e\ufeff]+|[\s\u0085\u180e\ufeff]+$/g;

function isAsciiTrim(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0b || b === 0x0c || b === CR || b === LF;
}

/** Cuts records out of bytes; the fields of the last record are in starts/ends/flags[0..count). */
export class RecordTokenizer {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  flags = new Uint8Array(64);
  /** What scanNumber says of each field, where the tokenizer read it as it went (else UNSCANNED), with its value and digits. */
  kinds = new Uint8Array(64);
  nums = new Float64Array(64);
  digits = new Uint8Array(64);
  count = 0;
  /** Line (1-based) at the current position; after a record, the line it ended on is `recordLine`. */
  line = 1;
  recordLine = 0;
  /** The record was an empty line (skipped). */
  empty = false;
  private crMode = false;
  /** Numbers can be read while cutting fields (a delimiter that cannot be part of a number). */
  private readonly fused: boolean;

  constructor(
    private readonly delimiter: number,
    private readonly quoting: boolean,
  ) {
    this.fused = !((delimiter >= 0x30 && delimiter <= 0x39) || delimiter === 0x2d || delimiter === 0x2e || delimiter === 0x2b);
  }

  /** Record delimiter: CR when the first line ends with a bare CR, else LF (CRLF: the CR is trimmed). */
  detectLineEnd(buf: Buffer, from: number): void {
    const lf = buf.indexOf(LF, from);
    const cr = buf.indexOf(CR, from);
    this.crMode = cr >= 0 && (lf < 0 || cr < lf - 1);
  }

  private push(s: number, e: number, f: number, kind: number = UNSCANNED): void {
    if (this.count === this.starts.length) {
      const grow = <A extends Int32Array | Uint8Array | Float64Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.flags = grow(this.flags);
      this.kinds = grow(this.kinds);
      this.nums = grow(this.nums);
      this.digits = grow(this.digits);
    }
    const c = this.count++;
    this.starts[c] = s;
    this.ends[c] = e;
    this.flags[c] = f;
    this.kinds[c] = kind;
    if (kind !== UNSCANNED) {
      this.nums[c] = scanValue[0];
      this.digits[c] = scanInts[1];
    }
  }

  /**
   * Tokenizes the record at `pos`; returns the position after it, or -1 when the bytes end
   * inside it and more may come (`final` false). At the end of the data returns `end`.
   */
  next(buf: Buffer, pos: number, end: number, final: boolean): number {
    const D = this.delimiter;
    const NL = this.crMode ? CR : LF;
    const quoting = this.quoting;
    let line = this.line;
    let i = pos;
    this.count = 0;
    for (;;) {
      while (i < end) {
        const b = buf[i];
        if (b === D || b === NL || !isAsciiTrim(b)) break;
        i++;
      }
      if (i >= end) {
        if (!final) return -1;
        this.push(i, i, 0);
        this.recordLine = line;
        break;
      }
      let b = buf[i];
      if (quoting && b === QUOTE) {
        const s = i + 1;
        let j = s;
        let f = QUOTED;
        let q: number;
        for (;;) {
          q = buf.indexOf(QUOTE, j);
          if (q < 0 || q >= end) {
            if (!final) return -1;
            throw new QuoteError('quote not closed');
          }
          // csv-parse's count, kept for the same line numbers: inside quotes every CR and every LF is a line
          for (let k = j; k < q; k++) if (buf[k] === LF || buf[k] === CR) line++;
          if (q + 1 < end && buf[q + 1] === QUOTE) {
            f |= ESCAPED;
            j = q + 2;
            continue;
          }
          if (q + 1 >= end && !final) return -1;
          break;
        }
        i = q + 1;
        while (i < end) {
          b = buf[i];
          if (b === D || b === NL || !isAsciiTrim(b)) break;
          i++;
        }
        if (i >= end && !final) return -1;
        this.push(s, q, f);
        if (i >= end) {
          this.recordLine = line;
          break;
        }
        b = buf[i];
        if (b === D) {
          i++;
          continue;
        }
        if (b === NL) {
          i++;
          this.recordLine = line;
          line++;
          break;
        }
        throw new QuoteError('character after a closing quote');
      }
      const s = i;
      // most fields are numbers that end at the delimiter: read the number as the field is cut
      if (this.fused && ((b >= 0x30 && b <= 0x39) || b === 0x2d)) {
        const r = scanNumberPrefix(buf, i, end);
        const j = scanInts[0];
        if (r !== SLOW && r !== NUM_LONG && (j < end ? buf[j] === D || buf[j] === NL : final)) {
          this.push(s, j, 0, r);
          i = j;
          if (i >= end) {
            this.recordLine = line;
            break;
          }
          i++;
          if (buf[j] === NL) {
            this.recordLine = line;
            line++;
            break;
          }
          continue;
        }
        i = j;
      }
      while (i < end) {
        b = buf[i];
        if (b === D || b === NL) break;
        if (quoting && b === QUOTE) throw new QuoteError('quote inside an unquoted field');
        i++;
      }
      if (i >= end && !final) return -1;
      let e = i;
      while (e > s && isAsciiTrim(buf[e - 1])) e--;
      this.push(s, e, e > s && (buf[s] >= 0x80 || buf[e - 1] >= 0x80) ? WIDE_EDGE : 0);
      if (i >= end) {
        this.recordLine = line;
        break;
      }
      i++;
      if (b === NL) {
        this.recordLine = line;
        line++;
        break;
      }
    }
    this.line = line;
    this.empty = this.count === 1 && this.starts[0] === this.ends[0] && this.flags[0] === 0;
    return i;
  }

  /** Field `k` of the last record, decoded (quotes unescaped, Unicode whitespace trimmed as csv-parse does). */
  text(buf: Buffer, k: number): string {
    const f = this.flags[k];
    let t = buf.toString('utf8', this.starts[k], this.ends[k]);
    if (f & ESCAPED) t = t.replaceAll('""', '"');
    if (f & WIDE_EDGE) t = t.replace(UNICODE_TRIM, '');
    return t;
  }

  /** Whether field `k` must be decoded to be read (escaped quotes or non-ASCII edges). */
  plain(k: number): boolean {
    return (this.flags[k] & (ESCAPED | WIDE_EDGE)) === 0;
  }
}

// ---------------------------------------------------------------- numbers from bytes

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Result of {@link scanNumber}. */
const NUM_CANONICAL = 0;
/** The tokenizer's kind of a field that is a number whose text String(value) gives back: the caller may store `nums[k]` directly. */
export const PLAIN_NUMBER = NUM_CANONICAL;
const NUM_FIXED = 1;
const NUM_OTHER_TEXT = 2;
const MISSING_EMPTY = 3;
const MISSING_MARKER = 4;
const SLOW = 5;
/**
 * A decimal with a point and 16 or 17 significant digits (no trailing zero): Number() reads it
 * and its text is taken to be String(value), the shortest that round-trips, as a writer of
 * doubles in full writes them (checking costs a String() per cell: 3× the whole read).
 */
const NUM_LONG = 6;
/** Not scanned yet (the tokenizer's mark for a field that did not end right after a number). */
export const UNSCANNED = 255;

/** What the last scan found: the value, and (scanInts) where it stopped and its fraction digits; typed arrays, so that storing a double allocates nothing. */
const scanValue = new Float64Array(1);
const scanInts = new Int32Array(2);

/**
 * Reads the longest plain decimal at the start of buf[s, limit) (sign, digits, point, digits;
 * no exponent) and says where it stopped (scanInts[0]). For a decimal of at most 15 significant
 * digits and 22 after the point the value is m / 10^k with m and 10^k exact doubles, so one
 * correctly rounded division gives exactly Number(text). Says how the text comes back from
 * the value: String(value) (NUM_CANONICAL: a text of at most 15 significant digits without
 * trailing zeros is the shortest that round-trips), value.toFixed(k) (NUM_FIXED: trailing
 * zeros, "1.50"; k in scanInts[1]), or not (NUM_OTHER_TEXT: "+1", "007", ".5", "-0");
 * NUM_LONG for more digits; SLOW when no digit was read.
 */
function scanNumberPrefix(buf: Uint8Array, s: number, limit: number): number {
  let i = s;
  let other = false;
  let neg = false;
  const b = buf[i];
  if (b === 0x2d) {
    neg = true;
    i++;
  } else if (b === 0x2b) {
    other = true;
    i++;
  }
  let m = 0;
  let sig = 0;
  const intStart = i;
  while (i < limit) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) break;
    if (m !== 0 || d !== 0) {
      m = m * 10 + d;
      sig++;
    }
    i++;
  }
  const intDigits = i - intStart;
  if (intDigits === 0 || (intDigits > 1 && buf[intStart] === 0x30)) other = true;
  let k = 0;
  let fixed = false;
  if (i < limit && buf[i] === 0x2e) {
    i++;
    const fracStart = i;
    while (i < limit) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      if (m !== 0 || d !== 0) {
        m = m * 10 + d;
        sig++;
      }
      i++;
    }
    k = i - fracStart;
    if (k === 0) other = true;
    else if (buf[i - 1] === 0x30) fixed = true;
    // 0.000000x: String() writes an exponent below 1e-6, toFixed() does not
    else if (intDigits === 1 && buf[intStart] === 0x30 && k >= 7) {
      let z = 0;
      while (buf[fracStart + z] === 0x30) z++;
      if (z >= 6) fixed = true;
    }
  }
  scanInts[0] = i;
  if (intDigits + k === 0) return SLOW;
  // 16 or 17 significant digits after a point: a double written in full (pandas, JavaScript),
  // read by Number(); an integer that long (an id) or more digits: SLOW, its exact text kept
  if (sig > 15 || k > 22) return other || fixed || k === 0 || sig > 17 ? SLOW : NUM_LONG;
  let v = k === 0 ? m : m / POW10[k];
  if (neg) {
    v = -v;
    if (m === 0) other = true;
  }
  scanValue[0] = v;
  if (other) return NUM_OTHER_TEXT;
  if (fixed) {
    scanInts[1] = k;
    return NUM_FIXED;
  }
  return NUM_CANONICAL;
}

/** {@link scanNumberPrefix} of the whole field buf[s, e): SLOW unless the field is such a number, an empty field or a missing marker. */
function scanNumber(buf: Uint8Array, s: number, e: number): number {
  if (e === s) return MISSING_EMPTY;
  const r = scanNumberPrefix(buf, s, e);
  if (scanInts[0] === e && r !== SLOW) return r;
  return e - s <= 3 && isMissingMarker(buf, s, e) ? MISSING_MARKER : SLOW;
}

/** "NA", "?", "nan" (see MISSING_MARKERS; "" is handled before). */
function isMissingMarker(buf: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  if (len === 1) return buf[s] === 0x3f;
  if (len === 2) return buf[s] === 0x4e && buf[s + 1] === 0x41;
  return len === 3 && buf[s] === 0x6e && buf[s + 1] === 0x61 && buf[s + 2] === 0x6e;
}

/** Bytes known to be ASCII as a string (faster than a UTF-8 decode). */
const latin1: (buf: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (buf, s, e) => (buf as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e)
    : (buf, s, e) => buf.toString('latin1', s, e);

const MISSING_TEXTS = new Set(['', 'NA', '?', 'nan']);

// ---------------------------------------------------------------- column builders

/**
 * Collects one column: numbers (a growing Float64Array) while every cell is a number or a
 * missing marker, then texts (dictionary codes) from the first cell that is neither.
 */
export class ColumnBuilder {
  /** Cells added so far. */
  n = 0;
  /** The numbers so far (capacity: its length) while the column is numeric; undefined once it is text. */
  values: Float64Array | undefined = new Float64Array(1024);
  private texts: Map<number, string> | undefined;
  /** Fraction digits of the cells written with trailing zeros (value.toFixed(k) is their text); 0 elsewhere. */
  private digits: Uint8Array | undefined;
  private codes: Int32Array | undefined;
  private dict: Map<string, number> | undefined;
  private dictValues: string[] | undefined;

  constructor(asText: boolean) {
    if (asText) this.toText();
  }

  /** Adds field `k` of the tokenizer's last record. */
  addField(tok: RecordTokenizer, buf: Buffer, k: number): void {
    if (this.values !== undefined && tok.plain(k)) {
      const s = tok.starts[k];
      const e = tok.ends[k];
      let r = tok.kinds[k];
      if (r === UNSCANNED) r = scanNumber(buf, s, e);
      else {
        scanValue[0] = tok.nums[k];
        scanInts[1] = tok.digits[k];
      }
      if (r !== SLOW) {
        this.ensure();
        const n = this.n++;
        if (r === NUM_CANONICAL) this.values![n] = scanValue[0];
        else if (r === NUM_LONG) this.values![n] = Number(latin1(buf, s, e));
        else if (r === MISSING_EMPTY) this.values![n] = NaN;
        else if (r === NUM_FIXED) {
          this.values![n] = scanValue[0];
          (this.digits ??= new Uint8Array(this.values!.length))[n] = scanInts[1];
        } else {
          this.values![n] = r === NUM_OTHER_TEXT ? scanValue[0] : NaN;
          (this.texts ??= new Map()).set(n, latin1(buf, s, e));
        }
        return;
      }
    }
    this.addText(tok.text(buf, k));
  }

  /** Adds one cell given as text. */
  addText(t: string): void {
    if (this.values !== undefined) {
      this.ensure();
      const n = this.n;
      if (MISSING_TEXTS.has(t)) {
        this.values[n] = NaN;
        if (t !== '') (this.texts ??= new Map()).set(n, t);
        this.n++;
        return;
      }
      if (NUMBER_PATTERN.test(t)) {
        const v = Number(t);
        if (Number.isFinite(v)) {
          this.values[n] = v;
          if (String(v) !== t) (this.texts ??= new Map()).set(n, t);
          this.n++;
          return;
        }
      }
      this.toText();
    }
    let code = this.dict!.get(t);
    if (code === undefined) {
      code = this.dictValues!.length;
      this.dict!.set(t, code);
      this.dictValues!.push(t);
    }
    if (this.n === this.codes!.length) {
      const grown = new Int32Array(this.n * 2);
      grown.set(this.codes!);
      this.codes = grown;
    }
    this.codes![this.n++] = code;
  }

  /** Makes room for `rows` cells in all: one copy now instead of the doublings that would get there. */
  reserve(rows: number): void {
    if (this.values !== undefined && rows > this.values.length) {
      const grown = new Float64Array(rows);
      grown.set(this.values.subarray(0, this.n));
      this.values = grown;
      if (this.digits) {
        const d = new Uint8Array(rows);
        d.set(this.digits.subarray(0, this.n));
        this.digits = d;
      }
    } else if (this.codes !== undefined && rows > this.codes.length) {
      const grown = new Int32Array(rows);
      grown.set(this.codes.subarray(0, this.n));
      this.codes = grown;
    }
  }

  private ensure(): void {
    if (this.n === this.values!.length) {
      const grown = new Float64Array(this.n * 2);
      grown.set(this.values!);
      this.values = grown;
      if (this.digits) {
        const d = new Uint8Array(this.n * 2);
        d.set(this.digits);
        this.digits = d;
      }
    }
  }

  /** From here on a text column: the cells so far become texts (their exact text where kept). */
  private toText(): void {
    const values = this.values;
    const texts = this.texts;
    const digits = this.digits;
    const n = this.n;
    this.values = undefined;
    this.texts = undefined;
    this.digits = undefined;
    this.dict = new Map();
    this.dictValues = [];
    this.codes = new Int32Array(Math.max(1024, n * 2));
    this.n = 0;
    for (let i = 0; i < n; i++) {
      const v = values![i];
      this.addText(texts?.get(i) ?? (digits?.[i] ? v.toFixed(digits[i]) : v === v ? String(v) : ''));
    }
  }

  /** The finished column (arrays trimmed to the cells added). */
  finish(): TabularColumn {
    if (this.values !== undefined) {
      const values = trimmed(this.values, this.n);
      this.values = undefined;
      const col: NumericColumn = { kind: 'numeric', values };
      if (this.texts?.size) col.texts = this.texts;
      if (this.digits) col.digits = trimmed(this.digits, this.n);
      return col;
    }
    const codes = trimmed(this.codes!, this.n);
    this.codes = undefined;
    return { kind: 'text', codes, values: this.dictValues! };
  }
}

/**
 * The first `n` cells of a builder's array: a view when they fill nine tenths of it or more
 * (a capacity reserved from the file's size: no copy, at most a tenth unused), else a copy.
 */
function trimmed<A extends Float64Array | Int32Array | Uint8Array>(a: A, n: number): A {
  if (a.length === n) return a;
  return (n >= a.length * 0.9 ? a.subarray(0, n) : a.slice(0, n)) as A;
}

/** Interns the texts of a column of labels: one string per distinct label. */
export class LabelBuilder {
  readonly labels: string[] = [];
  private readonly seen = new Map<string, string>();
  distinct(): number {
    return this.seen.size;
  }
  add(t: string): void {
    let kept = this.seen.get(t);
    if (kept === undefined) {
      kept = t;
      this.seen.set(t, t);
    }
    this.labels.push(kept);
  }
}
