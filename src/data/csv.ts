import { lazy } from '../util/lazy.js';

const csvParse = lazy<typeof import('csv-parse/sync')>('csv-parse/sync');
import type { RawTabular } from './types.js';
import { InputError } from '../util/errors.js';
import { stat } from 'node:fs/promises';
import { readInputChunks, readInputText } from './read.js';
import { isNumberLiteral } from './values.js';
import { makeTabular, type TabularFields } from './columns.js';
import { ColumnBuilder, LabelBuilder, PLAIN_NUMBER, QuoteError, RecordTokenizer } from './csvTokenizer.js';
import { checkGuessedLabels, chooseColumns, type ColumnChoiceOptions } from './columnsChoice.js';

/** Options of {@link loadCsv} and {@link parseCsvText}: which columns (ColumnChoiceOptions, shared with Parquet and Arrow) and how the text is read. */
export interface CsvOptions extends ColumnChoiceOptions {
  /**
   * Field delimiter (`,` `;` `\t`, or `tab`). Default: tab for `*.tsv` files, else detected
   * from the first line. A tab-delimited file is read with TSV rules: no quoting, a `"`
   * inside a field is data.
   */
  delimiter?: string;
  /** False: the file has no header row, its first line is data (default true). */
  header?: boolean;
  /** Names of the columns of a file without a header row (implies `header: false`); default c1…cN. */
  columnNames?: string[];
  /**
   * loadCsv: called after each chunk of the file (1 MiB) with the bytes read from the file so
   * far (compressed bytes for a gzip file) and the data rows read, for a progress display.
   */
  onProgress?: (bytes: number, rows: number) => void;
}

/**
 * Tabular data as loaded from a CSV file, with the columns the user forced to be
 * categorical. fitPreprocessing reads `categorical`; subsetRaw keeps it.
 */
export interface RawTabularWithHints extends RawTabular {
  categorical?: string[];
}

export { LABEL_COLUMN_NAMES } from './columnsChoice.js';

const CANDIDATE_DELIMITERS = [',', ';', '\t'];

/**
 * Loads a CSV (or TSV) file with a header row; gzipped files are recognised by their
 * magic bytes. The file is streamed and cut into fields as bytes: a column whose every cell
 * is a number (or a missing marker) is kept as numbers, others as texts (see columns.ts);
 * fitPreprocessing decides how each column is used. Throws an InputError naming the file
 * for any problem (missing file, no header, ragged row with its line number, missing or
 * empty labels, no feature column).
 */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<RawTabularWithHints> {
  const reader = new CsvTableReader(path, opts);
  // the columns' room for the whole file, estimated from its size and its first chunk's rows (a
  // gzip file's size underestimates it: the columns then grow as they fill, as without an estimate)
  const size = await stat(path).then((s) => s.size, () => 0);
  let bytes = 0;
  let reserved = false;
  const reserve = async (chunkBytes: number) => {
    bytes += chunkBytes;
    if (reserved || reader.rowsRead < 1000 || size <= bytes) return;
    reserved = true;
    reader.reserve(Math.ceil((reader.rowsRead / bytes) * size * 1.02) + 1024);
  };
  return readAll(reader, path, opts.onProgress, reserve, () => reader.finish());
}

/**
 * Reads a CSV/TSV file as {@link loadCsv} does (the same rules, checks and messages), but hands
 * its rows to `onBlock` about `blockRows` at a time, in file order, instead of returning them:
 * what is in memory is one block, not the file. Each block is a table like loadCsv's, its
 * columns typed by its own cells (a column of numbers in one block may be text in another: a
 * fitted preprocessing reads either), its origins the file's lines. Returns the data rows read.
 */
export async function readCsvBlocks(path: string, opts: CsvOptions & { blockRows: number }, onBlock: (block: RawTabularWithHints) => Promise<void>): Promise<number> {
  const reader = new CsvTableReader(path, opts);
  const last = await readAll(
    reader,
    path,
    opts.onProgress,
    async () => {
      while (reader.blockRows >= opts.blockRows) await onBlock(reader.takeBlock());
    },
    () => reader.finishBlocks(),
  );
  if (last) await onBlock(last);
  return reader.rowsRead;
}

/**
 * Streams the file's bytes into `reader` (calling `afterChunk` after each chunk), then `end`; a
 * quoting error, found at any point, gets csv-parse's words.
 */
async function readAll<T>(reader: CsvTableReader, path: string, onProgress: CsvOptions['onProgress'], afterChunk: ((chunkBytes: number) => Promise<void>) | undefined, end: () => T): Promise<T> {
  let fileBytes = 0;
  try {
    await readInputChunks(
      path,
      async (chunk) => {
        reader.push(chunk);
        onProgress?.(fileBytes, reader.rowsRead);
        await afterChunk?.(chunk.length);
      },
      onProgress && ((bytes) => (fileBytes = bytes)),
    );
    return end();
  } catch (err) {
    if (err instanceof QuoteError) throw quoteProblem(await readInputText(path), path, reader, err);
    throw err;
  }
}

/** Parses CSV text as {@link loadCsv} does; `source` names the text in error messages. */
export function parseCsvText(text: string, source: string, opts: CsvOptions = {}): RawTabularWithHints {
  const reader = new CsvTableReader(source, opts);
  try {
    reader.push(Buffer.from(text, 'utf8'));
    return reader.finish();
  } catch (err) {
    if (err instanceof QuoteError) throw quoteProblem(text, source, reader, err);
    throw err;
  }
}

/** A quoting error: csv-parse's words for it (as the reader has always given), else the tokenizer's. */
function quoteProblem(text: string, source: string, reader: CsvTableReader, err: QuoteError): InputError {
  try {
    csvParse().parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, { ...csvParseOptions(reader.delimiter!, 'CSV'), info: true });
  } catch (parseError) {
    return new InputError(source, `is not valid CSV: ${(parseError as Error).message}`);
  }
  return new InputError(source, `is not valid CSV: line ${reader.line}: ${err.message}`);
}

function csvParseOptions(delimiter: string, format: 'CSV' | 'TSV') {
  // TSV has no quoting: a " is part of the field
  return { delimiter, quote: format === 'TSV' ? false : '"', relax_column_count: true, skip_empty_lines: true, trim: true } as const;
}

/** The table being read: the header record decides the columns' roles, then each record adds to them. */
class CsvTableReader {
  delimiter: string | undefined;
  private tok: RecordTokenizer | undefined;
  private pending: Buffer | undefined;
  private started = false;
  /** Multi-byte delimiter: the whole text goes to csv-parse at the end. */
  private whole: Buffer[] | undefined;
  private format: 'CSV' | 'TSV' = 'CSV';
  private readonly hasHeader: boolean;
  private header: string[] | undefined;
  private headerWhat = '';
  private deferred: Error | undefined;
  private labelIndex = -1;
  private labelColumn = '';
  private labelGiven = false;
  private featureIndices: number[] = [];
  private builders: ColumnBuilder[] = [];
  private asText = new Set<string>();
  private labels = new LabelBuilder();
  private origins: number[] = [];
  private unlabeled = false;
  private rows = 0;
  private current: { buf: Buffer; strings: string[] | undefined } = { buf: Buffer.alloc(0), strings: undefined };

  constructor(
    private readonly source: string,
    private readonly opts: CsvOptions,
  ) {
    this.hasHeader = opts.header !== false && opts.columnNames === undefined;
  }

  /** Data rows read so far. */
  get rowsRead(): number {
    return this.rows;
  }

  /** Data rows read since the last block was taken (readCsvBlocks). */
  get blockRows(): number {
    return this.origins.length;
  }

  /** Makes room for `rows` data rows in every column (loadCsv: an estimate from the file's size). */
  reserve(rows: number): void {
    for (const b of this.builders) b.reserve(rows);
  }

  /** Line of the record being read (for messages). */
  get line(): number {
    return this.tok?.line ?? 1;
  }

  push(chunk: Buffer): void {
    this.take(chunk, false);
  }

  private take(chunk: Buffer, final: boolean): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    if (!this.started) {
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      else if (!final && buf.length < 3) {
        this.pending = buf;
        return;
      }
      const lf = buf.indexOf(0x0a);
      if (lf < 0 && !final) {
        this.pending = buf;
        return;
      }
      this.started = true;
      const firstLine = buf.toString('utf8', 0, lf < 0 ? buf.length : lf).replace(/\r$/, '');
      this.delimiter = resolveDelimiter(firstLine, this.source, this.opts.delimiter);
      this.format = this.delimiter === '\t' ? 'TSV' : 'CSV';
      if (Buffer.byteLength(this.delimiter) !== 1) this.whole = [];
      else {
        this.tok = new RecordTokenizer(Buffer.from(this.delimiter)[0], this.format === 'CSV');
        this.tok.detectLineEnd(buf, 0);
      }
    }
    if (this.whole) {
      this.whole.push(buf);
      return;
    }
    const tok = this.tok!;
    const end = buf.length;
    this.current.buf = buf;
    while (pos < end) {
      const next = tok.next(buf, pos, end, final);
      if (next < 0) break;
      pos = next;
      if (!tok.empty) this.record(tok.count, tok.recordLine);
    }
    if (pos < end) this.pending = buf.subarray(pos);
  }

  private text(k: number): string {
    return this.current.strings ? this.current.strings[k] : this.tok!.text(this.current.buf, k);
  }

  private record(count: number, line: number): void {
    if (this.header === undefined) {
      const first = Array.from({ length: count }, (_, k) => this.text(k));
      this.setup(first);
      if (this.hasHeader) return;
    }
    const width = this.header!.length;
    if (count !== width) {
      throw new InputError(this.source, `line ${line}: has ${count} field${count === 1 ? '' : 's'} but ${this.headerWhat} ${width}`);
    }
    if (this.deferred) throw this.deferred;
    if (this.unlabeled) this.labels.add('');
    else {
      const label = this.text(this.labelIndex);
      if (label === '') throw new InputError(this.source, `line ${line}: label column "${this.labelColumn}" is empty`);
      this.labels.add(label);
    }
    const { strings, buf } = this.current;
    const features = this.featureIndices;
    const builders = this.builders;
    if (strings) for (let j = 0; j < features.length; j++) builders[j].addText(strings[features[j]]);
    else {
      // the common cell, a number read as the record was cut, stored here; the others through the builder
      const tok = this.tok!;
      const kinds = tok.kinds;
      const nums = tok.nums;
      for (let j = 0; j < features.length; j++) {
        const k = features[j];
        const b = builders[j];
        const values = b.values;
        if (values !== undefined && kinds[k] === PLAIN_NUMBER && b.n < values.length) values[b.n++] = nums[k];
        else b.addField(tok, buf, k);
      }
    }
    this.origins.push(line);
    this.rows++;
  }

  /** The header (or the names of a file without one) and what each column is for; a problem waits for the first data row. */
  private setup(first: string[]): void {
    const opts = this.opts;
    const source = this.source;
    const header = this.hasHeader ? readHeader(first, source) : headerlessNames(first.length, opts.columnNames, source);
    this.header = header;
    this.headerWhat = this.hasHeader ? 'the header has' : opts.columnNames ? '--columns names' : 'line 1 has';
    try {
      const choice = chooseColumns(header, source, opts);
      const featureIndices = choice.featureIndices;
      this.labelColumn = choice.labelColumn;
      if (choice.labelIndex < 0) this.unlabeled = true;
      else {
        this.labelIndex = choice.labelIndex;
        this.labelGiven = opts.labelColumn !== undefined;
      }
      this.featureIndices = featureIndices;
      this.asText = new Set(this.unlabeled ? [] : (opts.categorical ?? []));
      this.builders = this.emptyColumns();
    } catch (err) {
      this.deferred = err as Error;
    }
  }

  /** The whole file's table (loadCsv). */
  finish(): RawTabularWithHints {
    this.end();
    return this.table();
  }

  /** The rows since the last block as a table; the next block starts empty (readCsvBlocks). */
  takeBlock(): RawTabularWithHints {
    const block = this.table();
    this.builders = this.emptyColumns();
    this.labels = new LabelBuilder();
    this.origins = [];
    return block;
  }

  /** A builder per feature column, empty (a column the user made categorical is text from the start). */
  private emptyColumns(): ColumnBuilder[] {
    return this.featureIndices.map((j) => new ColumnBuilder(this.asText.has(this.header![j])));
  }

  /** The file is read: its last block, if it has rows (the checks of an empty file are loadCsv's). */
  finishBlocks(): RawTabularWithHints | undefined {
    this.end();
    return this.origins.length > 0 ? this.table() : undefined;
  }

  /** The end of the bytes: the last record, and the checks of the whole file. */
  private end(): void {
    if (this.pending || !this.started) this.take(Buffer.alloc(0), true);
    if (this.whole) this.parseWhole();
    const source = this.source;
    if (this.header === undefined) throw new InputError(source, 'is empty');
    if (this.rows === 0) throw new InputError(source, 'has a header row but no data rows');
    if (this.deferred) throw this.deferred;
  }

  /** The rows collected (since the last block) as a table. */
  private table(): RawTabularWithHints {
    const source = this.source;
    const labels = this.labels.labels;
    if (!this.unlabeled) checkGuessedLabels(labels, this.labels.distinct(), this.labelColumn, source, this.labelGiven);
    const names = this.featureIndices.map((j) => this.header![j]);
    const columns = this.builders.map((b) => b.finish());
    const fields: TabularFields & { categorical?: string[] } = { kind: 'tabular', source, columns: names, labels, labelColumn: this.labelColumn, origins: this.origins };
    if (!this.unlabeled && this.opts.categorical?.length) fields.categorical = [...this.opts.categorical];
    return makeTabular(fields, columns);
  }

  /** A delimiter of several bytes: csv-parse reads the text, the records go through the same checks. */
  private parseWhole(): void {
    const text = Buffer.concat(this.whole!).toString('utf8');
    this.whole = undefined;
    let records: Array<{ record: string[]; info: { lines: number } }>;
    try {
      records = csvParse().parse(text, { ...csvParseOptions(this.delimiter!, this.format), info: true }) as unknown as typeof records;
    } catch (err) {
      throw new InputError(this.source, `is not valid ${this.format}: ${(err as Error).message}`);
    }
    for (const { record, info } of records) {
      this.current.strings = record;
      this.record(record.length, info.lines);
    }
    this.current.strings = undefined;
    this.started = true;
    this.pending = undefined;
  }
}

/** Column names of a file without a header row: the names given (one per field), else c1…cN. */
function headerlessNames(width: number, given: string[] | undefined, source: string): string[] {
  if (given === undefined) return Array.from({ length: width }, (_, j) => `c${j + 1}`);
  if (given.length !== width) {
    throw new InputError(source, `line 1 has ${width} field${width === 1 ? '' : 's'} but --columns names ${given.length}`);
  }
  return readHeader(given, '--columns', { allowNumbers: true });
}

/** The delimiter given (`tab` allowed) or the candidate seen most often in the header line. */
function resolveDelimiter(firstLineText: string, source: string, given: string | undefined): string {
  if (given !== undefined) {
    const delimiter = given === 'tab' || given === '\\t' ? '\t' : given;
    if (delimiter.length === 0) throw new InputError(source, 'the delimiter cannot be empty');
    return delimiter;
  }
  if (/\.tsv(\.gz)?$/i.test(source)) return '\t';
  const firstLine = firstLineText.replace(/"(?:[^"]|"")*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const candidate of CANDIDATE_DELIMITERS) {
    const count = firstLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** A header name longer than this is data, not a name: the file has no header row. */
const MAX_HEADER_NAME = 200;

function readHeader(header: string[], source: string, opts: { allowNumbers?: boolean } = {}): string[] {
  const where = opts.allowNumbers ? '' : 'line 1: ';
  header.forEach((name, j) => {
    if (name === '') throw new InputError(source, `${where}column ${j + 1} has no name`);
  });
  const noHeader = 'without a header row, say so with --no-header (names c1…cN, or --columns a,b,…)';
  if (!opts.allowNumbers && header.every(isNumberLiteral)) {
    throw new InputError(source, `line 1 looks like data, not a header: ${noHeader}`);
  }
  const long = header.findIndex((name) => name.length > MAX_HEADER_NAME);
  if (!opts.allowNumbers && long >= 0) {
    throw new InputError(source, `line 1 looks like data, not a header (field ${long + 1} is ${header[long].length} characters long): ${noHeader}`);
  }
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new InputError(source, `${where}column name "${name}" appears more than once`);
    seen.add(name);
  }
  return header;
}

