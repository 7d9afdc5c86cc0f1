/**
 * Logged predictions of a model Distillery cannot run (a deployed service, another
 * framework), as the reference of an update: one row of K scores per row of the training
 * data, in the data's row order. Formats, told by the extension:
 *   .csv    `p:<class>` columns (probabilities, as `distillery predict` writes) or `z:<class>`
 *           columns (logits), one per class of the base model, any other columns ignored;
 *   .jsonl  one object a line with "logits": [K numbers] or "probs": [K numbers], in the
 *           base model's class order;
 *   .npy    a float32/float64 array [n, K] (C order): logits, or probabilities when every row is
 *           in [0, 1] and sums to 1 (within 1e-3).
 * Probabilities become log-probabilities (floored at 1e-12): logits up to a per-row constant.
 */
import { promises as fs } from 'node:fs';
import { lazy } from '../util/lazy.js';

const csvParse = lazy<typeof import('csv-parse/sync')>('csv-parse/sync');
import { InputError } from '../util/errors.js';

const PROB_FLOOR = 1e-12;

function toLogits(values: Float32Array, K: number, probs: boolean, file: string): Float32Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new InputError(file, `row ${Math.floor(i / K) + 1}: score ${v} is not a finite number`);
    if (probs && (v < 0 || v > 1)) throw new InputError(file, `row ${Math.floor(i / K) + 1}: ${v} is not a probability`);
  }
  return probs ? values.map((v) => Math.log(Math.max(v, PROB_FLOOR))) : values;
}

function looksLikeProbabilities(values: Float32Array, K: number): boolean {
  for (let i = 0; i < values.length; i += K) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const v = values[i + k];
      if (v < 0 || v > 1) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

function readCsv(text: string, classNames: string[], file: string): Float32Array {
  let records: string[][];
  try {
    records = csvParse().parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new InputError(file, `is not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0] ?? [];
  const find = (prefix: string) => classNames.map((c) => header.indexOf(prefix + c));
  const p = find('p:');
  const z = find('z:');
  const probs = p.every((j) => j >= 0);
  const cols = probs ? p : z;
  if (!probs && !z.every((j) => j >= 0)) throw new InputError(file, `needs one p:<class> (probability) or z:<class> (logit) column per class: ${classNames.join(', ')}`);
  const K = classNames.length;
  const rows = records.slice(1);
  const out = new Float32Array(rows.length * K);
  rows.forEach((r, i) => cols.forEach((j, k) => (out[i * K + k] = r[j] === '' ? NaN : Number(r[j]))));
  return toLogits(out, K, probs, file);
}

function readJsonl(text: string, K: number, file: string): Float32Array {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const out = new Float32Array(lines.length * K);
  let probs: boolean | undefined;
  lines.forEach((line, i) => {
    let o: { logits?: unknown; probs?: unknown };
    try {
      o = JSON.parse(line);
    } catch {
      throw new InputError(file, `line ${i + 1}: is not JSON`);
    }
    const isProbs = Array.isArray(o?.probs);
    const v = isProbs ? o.probs : o?.logits;
    if (!Array.isArray(v) || v.length !== K) throw new InputError(file, `line ${i + 1}: needs "logits" or "probs", an array of ${K} numbers`);
    if (probs !== undefined && probs !== isProbs) throw new InputError(file, `line ${i + 1}: mixes "logits" and "probs" lines`);
    probs = isProbs;
    v.forEach((x, k) => (out[i * K + k] = typeof x === 'number' ? x : NaN));
  });
  return toLogits(out, K, probs ?? false, file);
}

function readNpy(bytes: Buffer, K: number, file: string): Float32Array {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new InputError(file, 'is not an NPY file');
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape || shape.length !== 2 || shape[1] !== K) throw new InputError(file, `needs an array of shape [rows, ${K}], got (${shape?.join(', ') ?? '?'})`);
  if (fortran) throw new InputError(file, 'is in Fortran order: save it C-ordered (numpy.ascontiguousarray)');
  const n = shape[0] * K;
  const body = bytes.subarray(start);
  let values: Float32Array;
  if (descr === '<f4' && body.length >= n * 4) values = Float32Array.from({ length: n }, (_, i) => body.readFloatLE(i * 4));
  else if (descr === '<f8' && body.length >= n * 8) values = Float32Array.from({ length: n }, (_, i) => body.readDoubleLE(i * 8));
  else throw new InputError(file, `holds ${descr ?? 'an unknown dtype'} or is truncated: use little-endian float32 or float64`);
  return toLogits(values, K, looksLikeProbabilities(values, K), file);
}

/** Logits [rows, K] from a logged-predictions file, in `classNames` order; `rows` is the number of data rows it must cover. */
export async function readLoggedScores(file: string, classNames: string[], rows: number): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new InputError(file, 'not found or not readable');
  }
  const K = classNames.length;
  const lower = file.toLowerCase();
  const logits = lower.endsWith('.npy') ? readNpy(bytes, K, file) : lower.endsWith('.jsonl') ? readJsonl(bytes.toString('utf8'), K, file) : lower.endsWith('.csv') ? readCsv(bytes.toString('utf8'), classNames, file) : null;
  if (!logits) throw new InputError(file, 'is not a .csv, .jsonl or .npy file of logged predictions');
  if (logits.length !== rows * K) throw new InputError(file, `has ${logits.length / K} rows of scores but the training data has ${rows} rows`);
  return logits;
}
