/**
 * Columnar storage of a table's cells: what the CSV reader produces and what preprocessing
 * reads, without one JavaScript string per cell.
 *
 * - A column whose every cell is a number or a missing marker is a Float64Array (NaN: a
 *   missing marker). The text of a cell is String(value) (a missing cell: ""), except for the
 *   few cells written otherwise ("1.50", "007", "1e3", "NA"), whose exact text is kept in a
 *   sparse map, so a column read as text (forced categorical) has exactly its file's values.
 * - Any other column is dictionary-coded: a code per row into its distinct texts.
 *
 * A RawTabular built by a loader holds its columns out of sight (a WeakMap, so a copy made by
 * spreading, `{ ...raw, rows }`, is a plain row table again and stays correct) and computes
 * `rows` (string[][]) only when something reads it. Code on the hot path (fit, apply, subset)
 * reads the columns through {@link tabularColumns}.
 */

/** Where each example sits in its file, so errors name the file's row whatever shuffling happened. */
export interface RawOrigins {
  /** 1-based: the line of a CSV or JSONL file, the example number of an IDX file; kept by subsetRaw. */
  origins?: number[];
  /** 'row': origins count the rows of a columnar file (Parquet, Arrow), not its lines. */
  originUnit?: 'row';
}

export interface RawTabular extends RawOrigins {
  kind: 'tabular';
  /** File (or other origin) the rows came from; used in error messages. */
  source: string;
  /** Feature column names, in file order (label column excluded). */
  columns: string[];
  /**
   * rows[i][j] is the raw text of column j of example i. A loader's table holds its cells by
   * column (see tabularColumns in columns.ts) and computes `rows` on first read: read cells
   * through tabularColumns / tabularCell where the table may be large.
   */
  rows: string[][];
  /** Raw label of each example. */
  labels: string[];
  labelColumn: string;
}

/** A column of numbers; NaN marks a missing cell. */
export interface NumericColumn {
  kind: 'numeric';
  values: Float64Array;
  /** Fraction digits of the cells written with trailing zeros ("1.50": 2; their text is value.toFixed(k)); 0 for the others. */
  digits?: Uint8Array;
  /** Exact text of the other cells whose text is neither String(value) nor value.toFixed(k) ("007", "+1", "1e3", "NA"), by row. */
  texts?: Map<number, string>;
}

/** A column of texts, dictionary-coded: row i holds values[codes[i]]. */
export interface TextColumn {
  kind: 'text';
  codes: Int32Array;
  values: string[];
}

export type TabularColumn = NumericColumn | TextColumn;

const store = new WeakMap<object, TabularColumn[]>();

/** The fields of a RawTabular other than its cells. */
export type TabularFields = Omit<RawTabular, 'rows'> & { categorical?: string[] };

/**
 * A RawTabular over columns already read (`columns[j]`: feature column `names[j]`; a
 * Float64Array with NaN for missing cells, or the texts). The constructor other readers
 * (Parquet, Arrow) feed; `rows` is computed on first read, for the few consumers that want it.
 */
export function tabularFromColumns(input: {
  source: string;
  names: string[];
  columns: Array<Float64Array | string[] | TabularColumn>;
  labels: string[];
  labelColumn: string;
  origins?: number[];
  categorical?: string[];
}): RawTabular & { categorical?: string[] } {
  const n = input.labels.length;
  const columns = input.columns.map((c, j): TabularColumn => {
    const col = c instanceof Float64Array ? { kind: 'numeric' as const, values: c } : Array.isArray(c) ? textColumn(c) : c;
    if (columnLength(col) !== n) throw new Error(`column "${input.names[j]}" has ${columnLength(col)} values but there are ${n} labels`);
    return col;
  });
  if (columns.length !== input.names.length) throw new Error(`${columns.length} columns for ${input.names.length} names`);
  const fields: TabularFields = { kind: 'tabular', source: input.source, columns: input.names, labels: input.labels, labelColumn: input.labelColumn };
  if (input.origins) fields.origins = input.origins;
  if (input.categorical) fields.categorical = input.categorical;
  return makeTabular(fields, columns);
}

/** A RawTabular of `fields` whose cells are `columns` (kept out of sight; `rows` computed on first read and then kept). */
export function makeTabular<F extends TabularFields>(fields: F, columns: TabularColumn[]): F & RawTabular {
  const raw = { ...fields } as F & RawTabular;
  let rows: string[][] | undefined;
  Object.defineProperty(raw, 'rows', {
    enumerable: true,
    configurable: true,
    get: () => (rows ??= rowsOf(columns, fields.labels.length)),
    set: (value: string[][]) => {
      // a consumer that replaces the rows replaces the cells
      store.delete(raw);
      Object.defineProperty(raw, 'rows', { value, enumerable: true, writable: true, configurable: true });
    },
  });
  store.set(raw, columns);
  return raw;
}

/** `raw` with other fields (source, …), the same cells, without copying them. */
export function withTabularFields<T extends RawTabular>(raw: T, changes: Partial<TabularFields>): T {
  const columns = store.get(raw);
  if (columns === undefined) return { ...raw, ...changes };
  const { rows: _rows, ...fields } = Object.getOwnPropertyDescriptors(raw);
  const plain = Object.defineProperties({}, fields) as TabularFields;
  return makeTabular({ ...plain, ...changes }, columns) as unknown as T;
}

/** The cells of `raw` by column: the loader's columns, or (a table built by hand with `rows`) columns made from its rows. */
export function tabularColumns(raw: RawTabular): TabularColumn[] {
  const kept = store.get(raw);
  if (kept !== undefined) return kept;
  // not kept: the rows of a table built by hand may change between calls
  return raw.columns.map((_, j) => textColumn(raw.rows.map((row) => row[j])));
}

/** True when `raw`'s cells are held by column (read by a loader), not only as rows. */
export function isColumnar(raw: RawTabular): boolean {
  return store.has(raw);
}

export function columnLength(col: TabularColumn): number {
  return col.kind === 'numeric' ? col.values.length : col.codes.length;
}

/** A text column from one string per row. */
export function textColumn(texts: string[]): TextColumn {
  const index = new Map<string, number>();
  const values: string[] = [];
  const codes = new Int32Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    let k = index.get(t);
    if (k === undefined) {
      k = values.length;
      index.set(t, k);
      values.push(t);
    }
    codes[i] = k;
  }
  return { kind: 'text', codes, values };
}

/** The text of a number as written by String(), "" for a missing cell (NaN). */
export function numberText(v: number): string {
  return v === v ? String(v) : '';
}

/** The text of cell `i` of `col`. */
export function cellText(col: TabularColumn, i: number): string {
  if (col.kind === 'text') return col.values[col.codes[i]];
  const k = col.digits?.[i];
  if (k) return col.values[i].toFixed(k);
  return col.texts?.get(i) ?? numberText(col.values[i]);
}

/** Every cell of `col` as text, one string per row (for small consumers: reports, slices). */
export function columnTexts(col: TabularColumn): string[] {
  const n = columnLength(col);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = cellText(col, i);
  return out;
}

/** The text of cell (`i`, column `j`) of `raw`. */
export function tabularCell(raw: RawTabular, i: number, j: number): string {
  const kept = store.get(raw);
  return kept ? cellText(kept[j], i) : raw.rows[i][j];
}

function rowsOf(columns: TabularColumn[], n: number): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) rows.push(columns.map((col) => cellText(col, i)));
  return rows;
}

/** The cells of `col` at rows `indices`, in that order. */
export function subsetColumn(col: TabularColumn, indices: ArrayLike<number>): TabularColumn {
  const m = indices.length;
  if (col.kind === 'text') {
    const codes = new Int32Array(m);
    for (let i = 0; i < m; i++) codes[i] = col.codes[indices[i]];
    return { kind: 'text', codes, values: col.values };
  }
  const values = new Float64Array(m);
  for (let i = 0; i < m; i++) values[i] = col.values[indices[i]];
  const out: NumericColumn = { kind: 'numeric', values };
  if (col.digits) {
    const digits = new Uint8Array(m);
    for (let i = 0; i < m; i++) digits[i] = col.digits[indices[i]];
    out.digits = digits;
  }
  if (col.texts?.size) {
    const texts = new Map<number, string>();
    for (let i = 0; i < m; i++) {
      const t = col.texts.get(indices[i]);
      if (t !== undefined) texts.set(i, t);
    }
    if (texts.size) out.texts = texts;
  }
  return out;
}

/** The rows of a loader's table at `indices` (columns subset, no per-cell strings); undefined for a table built by hand. */
export function subsetColumnar<T extends RawTabular>(raw: T, indices: ArrayLike<number>, labels: string[], origins: number[]): T | undefined {
  return splitColumnar(raw, [{ indices, labels, origins }], false)?.[0];
}

/**
 * Several row subsets of a loader's table at once (columns subset, no per-cell strings);
 * undefined for a table built by hand. With `release`, each column of `raw` is let go as soon
 * as every part has its rows of it, so the split needs the table plus one column, not the
 * table twice; `raw` has no cells afterwards (reading its `rows` is a programming error).
 */
export function splitColumnar<T extends RawTabular>(raw: T, parts: Array<{ indices: ArrayLike<number>; labels: string[]; origins: number[] }>, release: boolean): T[] | undefined {
  const columns = store.get(raw);
  if (columns === undefined) return undefined;
  const { rows: _rows, ...descriptors } = Object.getOwnPropertyDescriptors(raw);
  const fields = Object.defineProperties({}, descriptors) as TabularFields;
  const partColumns = parts.map((): TabularColumn[] => []);
  const width = columns.length;
  for (let j = 0; j < width; j++) {
    parts.forEach((part, p) => partColumns[p].push(subsetColumn(columns[j], part.indices)));
    if (release) (columns as Array<TabularColumn | undefined>)[j] = undefined;
  }
  if (release) {
    store.delete(raw);
    Object.defineProperty(raw, 'rows', {
      enumerable: true,
      configurable: true,
      get: () => {
        throw new Error(`the cells of ${raw.source} were handed to its parts (splitColumnar with release)`);
      },
    });
  }
  return parts.map((part, p) => makeTabular({ ...fields, labels: part.labels, origins: part.origins }, partColumns[p]) as unknown as T);
}
