/**
 * One measurement of the data bench (issue #24): loads a CSV with Distillery's reader, fits
 * the preprocessing and applies it (the feature matrix a training run gets), and prints one
 * JSON line: rows, seconds for the load and for fit + apply, feature width, RSS at the end.
 * Run it in its own process (under /usr/bin/time -v for the peak RSS):
 *
 *   node --import tsx bench/dataLoad.ts /tmp/distillery-data-200000.csv
 */
import { loadCsv } from '../src/data/csv.js';
import { applyPreprocessing, fitPreprocessing } from '../src/data/preprocess.js';

const path = process.argv[2];
const t0 = performance.now();
const raw = await loadCsv(path);
const t1 = performance.now();
const spec = fitPreprocessing(raw);
const ds = applyPreprocessing(spec, raw);
const t2 = performance.now();
console.log(
  JSON.stringify({
    rows: raw.labels.length,
    loadSeconds: +((t1 - t0) / 1000).toFixed(3),
    fitApplySeconds: +((t2 - t1) / 1000).toFixed(3),
    seconds: +((t2 - t0) / 1000).toFixed(3),
    width: ds.featureShape[0],
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  }),
);
