/**
 * Parquet and Arrow files on the command line: `train` on a Parquet file gives the model that
 * the same data as CSV gives (same seed: identical predictions); `predict` reads Parquet and
 * writes Parquet predictions that `compare` reads; without the optional reader package the
 * command says in one line which package to install (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { readPredictionsCsv, readPredictionsFile } from '../../src/cli/predictions.js';
import { duckdbRun, mixedArrowTable, mixedCsv, mixedRows, writeArrow, writeMixedParquet } from '../data/columnarFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-columnar-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const rows = mixedRows(300);
const csv = join(dir, 'mixed.csv');
writeFileSync(csv, mixedCsv(rows));
const parquet = await writeMixedParquet(csv, dir);
const feather = writeArrow(mixedArrowTable(rows), dir, 'mixed.feather');
const quick = ['--epochs', '8', '--seed', '3', '--hidden', '8', '--batch-size', '32', '-q'];

test('train on Parquet and on Arrow gives the model that the CSV gives (same seed: byte-identical predictions); predict writes Parquet that compare and gate read', () => {
  const models: Record<string, string> = {};
  for (const [name, data] of [['csv', csv], ['parquet', parquet.zstd], ['feather', feather]] as const) {
    models[name] = join(dir, `model-${name}`);
    const r = runCli(['train', '--data', data, '--out', models[name], ...quick]);
    assert.equal(r.code, 0, r.stderr);
  }
  const predictions = (model: string, data: string, out: string) => {
    const r = runCli(['predict', '--model', model, '--data', data, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote 300 predictions to /);
    return out;
  };
  const fromCsv = readFileSync(predictions(models.csv, csv, join(dir, 'p-csv.csv')), 'utf8');
  assert.equal(readFileSync(predictions(models.parquet, csv, join(dir, 'p-parquet.csv')), 'utf8'), fromCsv);
  assert.equal(readFileSync(predictions(models.feather, csv, join(dir, 'p-feather.csv')), 'utf8'), fromCsv);
  // the model is not a constant: the comparison below is about something
  assert.ok(new Set(fromCsv.split('\n').slice(1, -1).map((l) => l.split(',')[0])).size > 1);

  // predict on Parquet data (its label column is ignored), to a Parquet file
  const pq = predictions(models.csv, parquet.snappy, join(dir, 'p.parquet'));
  return (async () => {
    const a = await readPredictionsFile(pq);
    const b = await readPredictionsCsv(join(dir, 'p-csv.csv'));
    assert.deepEqual(a.predicted, b.predicted);
    assert.deepEqual(a.classNames, b.classNames);
    // the CSV rounds probabilities to 6 significant digits (≤ 5e-7 off, then read as float32), the Parquet file keeps their float32 values
    a.probs!.forEach((p, i) => assert.ok(Math.abs(p - b.probs![i]) <= 1e-6, `probability ${i}: ${p} vs ${b.probs![i]}`));
    // an existing predictions Parquet file may be replaced; another Parquet file may not
    assert.equal(runCli(['predict', '--model', models.csv, '--data', parquet.snappy, '--out', pq]).code, 0);
    const refused = runCli(['predict', '--model', models.csv, '--data', csv, '--out', parquet.gzip]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /mixed-gzip\.parquet.*exists and is not a predictions Parquet file written by Distillery/);

    const compare = runCli(['compare', '--old', pq, '--new', models.parquet, '--data', parquet.uncompressed]);
    assert.equal(compare.code, 0, compare.stderr);
    assert.match(compare.stdout, /Counts: 300 examples, 0 changed/);
    const gate = runCli(['gate', '--old', join(dir, 'p-csv.csv'), '--new', pq, '--data', feather, '--max-churn', '0']);
    assert.equal(gate.code, 0, gate.stderr);
  })();
});

test('compare names a bad row of Parquet data by its row number (no header line)', () => {
  const badPq = join(dir, 'preds.parquet');
  const r0 = runCli(['predict', '--model', join(dir, 'model-csv'), '--data', csv, '--out', badPq]);
  assert.equal(r0.code, 0, r0.stderr);
  // labels (the colour column) that the predictions' classes do not cover: the error names the data row
  const r = runCli(['compare', '--old', badPq, '--new', badPq, '--data', parquet.snappy, '--label', 'cat']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^distillery: .*mixed-snappy\.parquet: row 1: label "(red|green|blue)" is not one of the classes: 0, 1, 2/);
});

test('without the optional package, reading Parquet or Arrow says which package to install (exit 2)', () => {
  // an install of Distillery without @duckdb/node-api and apache-arrow: its own dist/, and every other package
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bare = join(dir, 'bare');
  mkdirSync(join(bare, 'node_modules'), { recursive: true });
  for (const entry of ['dist', 'bin', 'package.json']) cpSync(join(root, entry), join(bare, entry), { recursive: true });
  for (const entry of ['generated', 'native', 'datasets']) symlinkSync(join(root, entry), join(bare, entry));
  for (const pkg of readdirSync(join(root, 'node_modules'))) {
    if (pkg !== '@duckdb' && pkg !== 'apache-arrow') symlinkSync(join(root, 'node_modules', pkg), join(bare, 'node_modules', pkg));
  }
  const run = (args: string[]) => spawnSync(process.execPath, [join(bare, 'bin/distillery.js'), ...args], { encoding: 'utf8', cwd: bare });
  const pq = run(['train', '--data', parquet.snappy, '--out', join(dir, 'never'), '-q']);
  assert.equal(pq.status, 2);
  assert.equal(pq.stderr, 'distillery: reading Parquet files needs the optional package @duckdb/node-api: npm install @duckdb/node-api\n');
  const arrowRun = run(['predict', '--model', join(dir, 'model-csv'), '--data', feather, '--out', join(dir, 'never.csv')]);
  assert.equal(arrowRun.status, 2);
  assert.equal(arrowRun.stderr, 'distillery: reading Arrow IPC / Feather files needs the optional package apache-arrow: npm install apache-arrow\n');
  const write = run(['predict', '--model', join(dir, 'model-csv'), '--data', csv, '--out', join(dir, 'never.parquet')]);
  assert.equal(write.status, 2);
  assert.equal(write.stderr, 'distillery: writing Parquet files needs the optional package @duckdb/node-api: npm install @duckdb/node-api\n');
  // CSV needs neither
  assert.equal(run(['predict', '--model', join(dir, 'model-csv'), '--data', csv, '--out', join(dir, 'fine.csv')]).status, 0);
});

test('a Parquet predictions file: class numbers as predictions; a missing column, an empty prediction or a bad probability is one line naming the row', async () => {
  const file = (name: string) => join(dir, name);
  await duckdbRun(`COPY (SELECT i % 3 AS prediction, 0.5 AS "p:0", 0.5 AS "p:1" FROM range(4) t(i)) TO '${file('numbers.parquet')}' (FORMAT parquet)`);
  const p = await readPredictionsFile(file('numbers.parquet'));
  assert.deepEqual(p.predicted, ['0', '1', '2', '0']);
  assert.deepEqual(p.classNames, ['0', '1']);
  await duckdbRun(`COPY (SELECT i AS pred FROM range(4) t(i)) TO '${file('nopred.parquet')}' (FORMAT parquet)`);
  await assert.rejects(readPredictionsFile(file('nopred.parquet')), /nopred\.parquet: has no "prediction" column \(columns: pred\)$/);
  await duckdbRun(`COPY (SELECT CASE WHEN i = 2 THEN NULL ELSE 'a' END AS prediction FROM range(4) t(i)) TO '${file('nullpred.parquet')}' (FORMAT parquet)`);
  await assert.rejects(readPredictionsFile(file('nullpred.parquet')), /nullpred\.parquet: row 3: empty prediction$/);
  await duckdbRun(`COPY (SELECT 'a' AS prediction, CASE WHEN i = 1 THEN 1.5 ELSE 0.5 END AS "p:a" FROM range(4) t(i)) TO '${file('badprob.parquet')}' (FORMAT parquet)`);
  await assert.rejects(readPredictionsFile(file('badprob.parquet')), /badprob\.parquet: row 2: p:a "1\.5" is not a probability$/);
});

test('run: a YAML config whose data: is a Parquet file gives the results of the same data as CSV', () => {
  const summaries = [csv, parquet.lz4].map((data, k) => {
    const config = join(dir, `run-${k}.yaml`);
    writeFileSync(config, `name: same\ndata: ${data}\ntestSize: 60\nsplit: { initial: 100, validation: 40, newBatch: 100 }\nmodel: { kind: mlp, hidden: [8] }\ntraining: { epochs: 3 }\nseeds: [1]\nmethods: [plain, { method: distill, lambda: 0.5 }]\nbootstrap: { resamples: 50 }\n`);
    const r = runCli(['run', '--config', config, '--out', join(dir, `run-${k}`), '-q']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(readFileSync(join(dir, `run-${k}`, 'results.json'), 'utf8')).trials;
  });
  assert.deepEqual(summaries[1], summaries[0]);
});

test('CSV-only flags are refused with a Parquet file, naming the flag', () => {
  const r = runCli(['train', '--data', parquet.snappy, '--delimiter', ';', '--out', join(dir, 'never')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `distillery: --delimiter: applies to CSV/TSV files (.csv, .tsv, .txt) only, not ${parquet.snappy}\n`);
});

test('a Parquet file whose column has the wrong type, or lacks one the model needs: one line naming the file, column and row', async () => {
  const wrong = join(dir, 'wrong-type.parquet');
  await duckdbRun(`COPY (SELECT CASE WHEN i32 > 50 THEN 'many' ELSE CAST(i32 AS VARCHAR) END AS i32, * EXCLUDE (i32) FROM read_parquet('${parquet.snappy}')) TO '${wrong}' (FORMAT parquet)`);
  const firstMany = rows.findIndex((r) => r.i32 > 50) + 1;
  const r1 = runCli(['predict', '--model', join(dir, 'model-csv'), '--data', wrong, '--out', join(dir, 'never.csv')]);
  assert.equal(r1.code, 2);
  assert.equal(r1.stderr, `distillery: ${wrong}: row ${firstMany}: column "i32" value "many" is not a number, in a numeric column (fix the cell, leave it empty or write NA for a missing value)\n`);
  const missing = join(dir, 'no-dbl.parquet');
  await duckdbRun(`COPY (SELECT * EXCLUDE (dbl) FROM read_parquet('${parquet.snappy}')) TO '${missing}' (FORMAT parquet)`);
  const r2 = runCli(['compare', '--old', join(dir, 'model-csv'), '--new', join(dir, 'model-parquet'), '--data', missing]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /^distillery: .*no-dbl\.parquet: has no column "dbl", which the model needs; columns: i32, i64, flt, str, cat, day, ts\n$/);
});
