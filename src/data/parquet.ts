/**
 * Parquet files, read with DuckDB (`@duckdb/node-api`, an optional package loaded when a
 * Parquet file is read; docs/data.md says why this library). Columns become a
 * {@link OpenedTable}: numeric physical and logical types (int8…int64, unsigned, float,
 * double, decimal, boolean as 0/1) as numbers, null → NaN; strings and dictionary/enum
 * columns as texts, null → ''; dates as `YYYY-MM-DD` and timestamps as ISO 8601 UTC texts.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import type * as DuckDB from '@duckdb/node-api';
import { InputError } from '../util/errors.js';
import { readProblem } from '../util/fsErrors.js';
import { importOptional } from '../util/optional.js';
import { isoDateFromMillis, isoFromMillis, type OpenedTable, type TableColumn } from './columnTable.js';

const PARQUET_MAGIC = 'PAR1';
/** Magic at both ends and a 4-byte footer length: the smallest possible Parquet file is longer. */
const MIN_PARQUET_BYTES = 12;

type DuckDBApi = typeof DuckDB;

/** The DuckDB Node API, or a MissingPackageError naming it. */
function duckdb(feature = 'reading Parquet files'): Promise<DuckDBApi> {
  return importOptional<DuckDBApi>('@duckdb/node-api', feature);
}

/** An in-memory DuckDB that never downloads an extension (Parquet support is built in). */
async function duckdbConnection(api: DuckDBApi): Promise<DuckDB.DuckDBConnection> {
  const instance = await api.DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  return instance.connect();
}

/** A path as a DuckDB string literal. */
function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A column name as a DuckDB identifier. */
function sqlName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** How a DuckDB column type is read: the SQL expression's shape and the JS conversion. */
type Reading = 'number' | 'text' | 'date' | 'timestamp';

function readingOf(api: DuckDBApi, typeId: DuckDB.DuckDBTypeId): Reading | undefined {
  const T = api.DuckDBTypeId;
  switch (typeId) {
    case T.BOOLEAN:
    case T.TINYINT:
    case T.SMALLINT:
    case T.INTEGER:
    case T.BIGINT:
    case T.UTINYINT:
    case T.USMALLINT:
    case T.UINTEGER:
    case T.UBIGINT:
    case T.HUGEINT:
    case T.UHUGEINT:
    case T.FLOAT:
    case T.DOUBLE:
    case T.DECIMAL:
      return 'number';
    case T.VARCHAR:
    case T.ENUM:
      return 'text';
    case T.DATE:
      return 'date';
    case T.TIMESTAMP:
    case T.TIMESTAMP_S:
    case T.TIMESTAMP_MS:
    case T.TIMESTAMP_NS:
    case T.TIMESTAMP_TZ:
      return 'timestamp';
    default:
      return undefined;
  }
}

/** The SQL that reads column `name` in the shape {@link Reading} wants: DOUBLE or VARCHAR. */
function selectExpr(name: string, reading: Reading): string {
  const col = sqlName(name);
  switch (reading) {
    case 'number':
      return `CAST(${col} AS DOUBLE)`;
    case 'text':
      return `CAST(${col} AS VARCHAR)`;
    case 'date':
    case 'timestamp':
      // milliseconds since the epoch (a TIMESTAMP WITH TIME ZONE is an instant: no time zone setting involved)
      return `CAST(epoch_ms(CAST(${col} AS TIMESTAMP${reading === 'date' ? '' : '_MS'})) AS DOUBLE)`;
  }
}

/**
 * Checks that `path` exists and is a whole Parquet file (the magic number `PAR1` at its start
 * and at its end), with one-line errors naming the file.
 */
export async function checkParquetFile(path: string): Promise<void> {
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(path, 'is a directory, not a Parquet file');
    size = s.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, readProblem(e));
  }
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    if (size < 4 || head.toString('latin1') !== PARQUET_MAGIC) throw new InputError(path, 'is not a Parquet file (it does not start with the Parquet magic number PAR1)');
    await fh.read(tail, 0, 4, Math.max(0, size - 4));
    if (size < MIN_PARQUET_BYTES || tail.toString('latin1') !== PARQUET_MAGIC) throw new InputError(path, `is truncated: a Parquet file ends with its footer and the magic number PAR1, this one (${size} bytes) does not`);
  } finally {
    await fh.close();
  }
}

/** The first line of a DuckDB error, without its "… Error: " prefix. */
function duckdbMessage(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0].replace(/^[A-Za-z ]*Error: /, '');
}

/** Opens a Parquet file: its schema now, its columns on demand (each read whole, as {@link TableColumn}s). */
export async function openParquet(path: string): Promise<OpenedTable> {
  await checkParquetFile(path);
  const api = await duckdb();
  const conn = await duckdbConnection(api);
  const from = `read_parquet(${sqlString(path)})`;
  let names: string[];
  let types: DuckDB.DuckDBType[];
  let numRows: number;
  try {
    const schema = await conn.run(`SELECT * FROM ${from} LIMIT 0`);
    names = schema.columnNames();
    types = schema.columnTypes();
    const count = await conn.runAndReadAll(`SELECT count(*) FROM ${from}`);
    numRows = Number(count.getRows()[0][0]);
  } catch (e) {
    conn.closeSync();
    throw new InputError(path, `cannot be read as Parquet: ${duckdbMessage(e)}`);
  }
  let open = true;
  return {
    source: path,
    names,
    numRows,
    close() {
      if (open) conn.closeSync();
      open = false;
    },
    async read(wanted: string[]): Promise<TableColumn[]> {
      const readings = wanted.map((name) => {
        const type = types[names.indexOf(name)];
        const reading = readingOf(api, type.typeId);
        if (reading === undefined) {
          throw new InputError(path, `column "${name}" has type ${type.toString()}, which Distillery cannot read (numbers, booleans, strings, categories, dates and timestamps only); leave it out with --ignore-columns`);
        }
        return reading;
      });
      const out: TableColumn[] = readings.map((r) => (r === 'number' ? new Float64Array(numRows) : new Array<string>(numRows)));
      if (wanted.length === 0) return out;
      try {
        const result = await conn.run(`SELECT ${wanted.map((name, j) => selectExpr(name, readings[j])).join(', ')} FROM ${from}`);
        let row = 0;
        for (;;) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) break;
          const n = chunk.rowCount;
          readings.forEach((reading, j) => {
            const vector = chunk.getColumnVector(j);
            const col = out[j];
            if (reading === 'number') {
              const nums = col as Float64Array;
              for (let i = 0; i < n; i++) nums[row + i] = (vector.getItem(i) as number | null) ?? NaN;
            } else {
              const texts = col as string[];
              const text = reading === 'text' ? (v: unknown) => v as string : reading === 'date' ? isoDateFromMillis : isoFromMillis;
              for (let i = 0; i < n; i++) {
                const v = vector.getItem(i);
                texts[row + i] = v === null ? '' : text(v as never);
              }
            }
          });
          row += n;
        }
        if (row !== numRows) throw new Error(`read ${row} rows of ${numRows}`);
      } catch (e) {
        throw new InputError(path, `cannot be read as Parquet: ${duckdbMessage(e)}`);
      }
      return out;
    },
  };
}

/** A column of a Parquet file to write: texts (VARCHAR) or float32 numbers (FLOAT). */
export type ParquetColumn = { name: string; texts: string[] } | { name: string; floats: Float32Array };

/** A small table as Parquet bytes (snappy-compressed), written by DuckDB through a temporary file `scratch` (removed). */
export async function parquetBytes(columns: ParquetColumn[], n: number, scratch: string): Promise<Uint8Array> {
  const api = await duckdb('writing Parquet files');
  const conn = await duckdbConnection(api);
  try {
    await conn.run(`CREATE TABLE t (${columns.map((c) => `${sqlName(c.name)} ${'texts' in c ? 'VARCHAR' : 'FLOAT'}`).join(', ')})`);
    const appender = await conn.createAppender('t');
    for (let i = 0; i < n; i++) {
      for (const c of columns) {
        if ('texts' in c) appender.appendVarchar(c.texts[i]);
        else appender.appendFloat(c.floats[i]);
      }
      appender.endRow();
    }
    appender.closeSync();
    await conn.run(`COPY t TO ${sqlString(scratch)} (FORMAT parquet, COMPRESSION snappy)`);
    return await readFile(scratch);
  } finally {
    conn.closeSync();
    await rm(scratch, { force: true });
  }
}
