/**
 * Arrow IPC files (`.arrow`, Feather v2 `.feather`) and streams (`.arrows`), read with Apache
 * Arrow JS (`apache-arrow`, an optional package loaded when such a file is read). Columns map
 * as Parquet's do (see parquet.ts): numbers (null → NaN), texts (null → ''), dates and
 * timestamps as ISO 8601 texts. Compressed (LZ4/ZSTD) IPC bodies are not supported.
 */
import type * as Arrow from 'apache-arrow';
import { InputError } from '../util/errors.js';
import { importOptional } from '../util/optional.js';
import { readInputFile } from './read.js';
import { isoDateFromMillis, isoFromMillis, type OpenedTable, type TableColumn } from './columnTable.js';

type ArrowApi = typeof Arrow;

const FILE_MAGIC = 'ARROW1';
const FEATHER_V1_MAGIC = 'FEA1';
/** An IPC stream message starts with this continuation marker; the stream ends with it and a zero length. */
const CONTINUATION = 0xffffffff;

/** Opens an Arrow IPC file or stream (read whole: Arrow IPC is memory-sized by design). */
export async function openArrow(path: string): Promise<OpenedTable> {
  const bytes = await readInputFile(path);
  checkArrowBytes(bytes, path);
  const arrow = await importOptional<ArrowApi>('apache-arrow', 'reading Arrow IPC / Feather files');
  let table: Arrow.Table;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (e) {
    const message = (e as Error).message;
    if (/compressed/i.test(message)) throw new InputError(path, 'has compressed (LZ4/ZSTD) record batches, which Distillery cannot read: write it uncompressed (pyarrow: feather.write_feather(df, path, compression="uncompressed"))');
    throw new InputError(path, `cannot be read as Arrow IPC: ${message.split('\n')[0]}`);
  }
  const names = table.schema.fields.map((f) => f.name);
  return {
    source: path,
    names,
    numRows: table.numRows,
    async read(wanted: string[]): Promise<TableColumn[]> {
      return wanted.map((name) => readColumn(arrow, table, table.schema.fields[names.indexOf(name)], path));
    },
    close() {},
  };
}

/** Whole-file checks with one-line errors: the Arrow magic at both ends of a file, the end-of-stream marker of a stream. */
function checkArrowBytes(bytes: Uint8Array, path: string): void {
  const text = (from: number, n: number) => Buffer.from(bytes.subarray(from, from + n)).toString('latin1');
  if (text(0, 4) === FEATHER_V1_MAGIC) throw new InputError(path, 'is a Feather version 1 file, which Distillery cannot read: write it as Feather version 2 (Arrow IPC)');
  if (text(0, 6) === FILE_MAGIC) {
    if (bytes.length < 12 || text(bytes.length - 6, 6) !== FILE_MAGIC) throw new InputError(path, 'is truncated: an Arrow IPC file ends with the magic number ARROW1, this one does not');
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 8 && view.getUint32(0, true) === CONTINUATION) {
    if (view.getUint32(bytes.length - 8, true) !== CONTINUATION || view.getUint32(bytes.length - 4, true) !== 0) {
      throw new InputError(path, 'is truncated: an Arrow IPC stream ends with an end-of-stream marker, this one does not');
    }
    return;
  }
  throw new InputError(path, 'is not an Arrow IPC file or stream (it does not start with the magic number ARROW1 or a stream message)');
}

/** Milliseconds since the epoch of a date/timestamp cell as Arrow JS gives it (a number of ms, a bigint or a Date). */
function millis(v: unknown): number {
  return v instanceof Date ? v.getTime() : Number(v);
}

function readColumn(arrow: ArrowApi, table: Arrow.Table, field: Arrow.Field, path: string): TableColumn {
  const T = arrow.Type;
  const vector = table.getChild(field.name)!;
  const n = table.numRows;
  const type = field.type as Arrow.DataType;
  const valueType = type.typeId === T.Dictionary ? (type as Arrow.Dictionary).dictionary : type;
  const id = valueType.typeId;
  if (id === T.Int || id === T.Float || id === T.Bool) {
    const out = new Float64Array(n);
    let i = 0;
    for (const v of vector) out[i++] = v === null ? NaN : Number(v);
    return out;
  }
  const text: ((v: unknown) => string) | undefined =
    id === T.Utf8 || id === T.LargeUtf8 || id === T.Utf8View ? (v) => v as string : id === T.Date ? (v) => isoDateFromMillis(millis(v)) : id === T.Timestamp ? (v) => isoFromMillis(millis(v)) : undefined;
  if (text === undefined) {
    throw new InputError(path, `column "${field.name}" has type ${String(type)}, which Distillery cannot read (numbers, booleans, strings, categories, dates and timestamps only); leave it out with --ignore-columns`);
  }
  const out = new Array<string>(n);
  let i = 0;
  for (const v of vector) out[i++] = v === null ? '' : text(v);
  return out;
}
