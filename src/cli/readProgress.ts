/**
 * Progress of a long read (`--data` and the other data files a command reads): on a terminal a
 * bar of the bytes read with the rows and rows per second; nothing under `-q`, in pipes and CI
 * logs, or for files too small to wait for. Set once per command by createContext.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type cliProgress from 'cli-progress';
import { lazy } from '../util/lazy.js';
import { dataFormatOf } from '../data/formats.js';

const progressBars = lazy<typeof cliProgress>('cli-progress');

/** Files smaller than this are read without a bar (they take about a second or less). */
export const READ_PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

/** Receives a read's progress: the bytes of the file read so far and the data rows. */
export interface ReadProgress {
  update(bytes: number, rows: number): void;
  stop(): void;
}

let stream: NodeJS.WriteStream | undefined;

/** Shows read progress on `to` (a terminal) from now on; undefined: none (-q, not a terminal). */
export function showReadProgress(to: NodeJS.WriteStream | undefined): void {
  stream = to?.isTTY ? to : undefined;
}

/** A bar for reading `file`, when progress is shown and the file is a delimited file of at least `minBytes`. */
export function readProgressFor(file: string, minBytes = READ_PROGRESS_MIN_BYTES): ReadProgress | undefined {
  if (stream === undefined || dataFormatOf(file) !== 'csv') return undefined;
  let total: number;
  try {
    total = statSync(file).size;
  } catch {
    return undefined; // the loader names the problem
  }
  if (total < minBytes) return undefined;
  const started = performance.now();
  const bar = new (progressBars().SingleBar)(
    { format: `reading ${basename(file).padEnd(20)} [{bar}] {read}/{size} MB, {rows} rows, {rate} rows/s`, stream, hideCursor: true, clearOnComplete: false },
    progressBars().Presets.shades_classic,
  );
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  bar.start(total, 0, { read: mb(0), size: mb(total), rows: 0, rate: 0 });
  return {
    update(bytes, rows) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(Math.min(bytes, total), { read: mb(bytes), rows: rows.toLocaleString('en-US'), rate: seconds > 0 ? Math.round(rows / seconds).toLocaleString('en-US') : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
