/**
 * The same small table as CSV, as Parquet (written by DuckDB, several physical types and
 * compressions) and as Arrow IPC (written by Apache Arrow JS): fixtures made at test time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { Rng } from '../../src/util/rng.js';

/** One row's values; null = missing. */
export interface MixedRow {
  i32: number;
  i64: number;
  dbl: number | null;
  flt: number;
  str: string | null;
  cat: string;
  day: string;
  ts: string;
  label: number;
}

const CATS = ['red', 'green', 'blue'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta'];

/** `n` seeded rows with 3 classes that the features predict (so a trained model is not constant). */
export function mixedRows(n: number, seed = 7): MixedRow[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    return {
      i32: Math.floor(rng.next() * 100) - 20 + label * 30,
      i64: 1_000_000_000_000 + Math.floor(rng.next() * 1000),
      dbl: i % 7 === 3 ? null : Number((rng.next() * 10 - label * 3).toFixed(6)),
      // multiples of 1/8: exact in float32, so float and double agree
      flt: Math.round(rng.next() * 80) / 8 + label,
      str: i % 5 === 2 ? null : WORDS[(i + label) % WORDS.length],
      cat: CATS[(i * 7 + label) % CATS.length],
      day: new Date(Date.UTC(2024, 0, 1 + ((i * 11) % 300))).toISOString().slice(0, 10),
      ts: new Date(Date.UTC(2023, 5, 1, (i * 5) % 24, (i * 13) % 60, (i * 17) % 60)).toISOString(),
      label,
    };
  });
}

const COLUMNS: (keyof MixedRow)[] = ['i32', 'i64', 'dbl', 'flt', 'str', 'cat', 'day', 'ts', 'label'];

/** The rows as CSV text, missing values empty (timestamps as the ISO texts the columnar readers give). */
export function mixedCsv(rows: MixedRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))].join('\n') + '\n';
}

/** Parquet compressions DuckDB writes (each one file; plus a format-version-2 file). */
export const PARQUET_COMPRESSIONS = ['snappy', 'uncompressed', 'zstd', 'gzip', 'brotli', 'lz4'] as const;

/**
 * Writes the rows as Parquet, one file per compression: INT32, INT64, DOUBLE with nulls,
 * FLOAT, strings with nulls, an ENUM (dictionary-encoded), DATE, TIMESTAMP and an INT64 label.
 * `csvPath`: the rows' CSV (DuckDB reads it with explicit types).
 */
export async function writeMixedParquet(csvPath: string, dir: string, stem = 'mixed'): Promise<Record<(typeof PARQUET_COMPRESSIONS)[number] | 'v2', string>> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  await conn.run(`CREATE TYPE colour AS ENUM ('${CATS.join("','")}')`);
  const types = `{'i32': 'INTEGER', 'i64': 'BIGINT', 'dbl': 'DOUBLE', 'flt': 'FLOAT', 'str': 'VARCHAR', 'cat': 'VARCHAR', 'day': 'DATE', 'ts': 'VARCHAR', 'label': 'BIGINT'}`;
  const select = `SELECT i32, i64, dbl, flt, str, CAST(cat AS colour) AS cat, day, CAST(strptime(ts, '%Y-%m-%dT%H:%M:%S.%gZ') AS TIMESTAMP) AS ts, label FROM read_csv('${csvPath}', header = true, columns = ${types}, nullstr = '')`;
  const out = {} as Record<(typeof PARQUET_COMPRESSIONS)[number] | 'v2', string>;
  for (const compression of PARQUET_COMPRESSIONS) {
    out[compression] = join(dir, `${stem}-${compression}.parquet`);
    await conn.run(`COPY (${select}) TO '${out[compression]}' (FORMAT parquet, COMPRESSION ${compression})`);
  }
  // format version 2 data pages and encodings (DELTA_BINARY_PACKED …)
  out.v2 = join(dir, `${stem}-v2.parquet`);
  await conn.run(`COPY (${select}) TO '${out.v2}' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2)`);
  conn.closeSync();
  return out;
}

/** Runs SQL in a fresh in-memory DuckDB (for writing odd Parquet files). */
export async function duckdbRun(sql: string): Promise<void> {
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  await conn.run(sql);
  conn.closeSync();
}

/** The rows as an Arrow table: Int32, Int64, Float64 with nulls, Float32, Utf8 with nulls, Dictionary<Utf8>, DateDay, TimestampMillisecond, Int64 label. */
export function mixedArrowTable(rows: MixedRow[]): arrow.Table {
  const col = <K extends keyof MixedRow>(k: K) => rows.map((r) => r[k]);
  return new arrow.Table({
    i32: arrow.vectorFromArray(col('i32'), new arrow.Int32()),
    i64: arrow.vectorFromArray(col('i64').map(BigInt), new arrow.Int64()),
    dbl: arrow.vectorFromArray(col('dbl'), new arrow.Float64()),
    flt: arrow.vectorFromArray(col('flt'), new arrow.Float32()),
    str: arrow.vectorFromArray(col('str'), new arrow.Utf8()),
    cat: arrow.vectorFromArray(col('cat'), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    day: arrow.vectorFromArray(col('day').map((d) => Date.parse(`${d}T00:00:00Z`)), new arrow.DateDay()),
    ts: arrow.vectorFromArray(col('ts').map((t) => Date.parse(t)), new arrow.TimestampMillisecond()),
    label: arrow.vectorFromArray(col('label').map(BigInt), new arrow.Int64()),
  });
}

/** Writes an Arrow table as an IPC file (`name` .arrow or .feather) or stream (.arrows). */
export function writeArrow(table: arrow.Table, dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, arrow.tableToIPC(table, name.endsWith('.arrows') ? 'stream' : 'file'));
  return path;
}
