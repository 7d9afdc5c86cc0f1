/**
 * Writes the main job's data as Distillery itself prepares it (prepareData, splitUpdateScenario,
 * fitPreprocessing on the initial sample, applyPreprocessing), per seed, for the PyTorch twin
 * (bench/torch_mainjob.py): both sides then train on identical rows.
 *
 *   node --import tsx bench/export-mainjob-data.ts --config configs/letter-update.yaml --out /tmp/dir [--seeds 1,2]
 *
 * Writes `<out>/manifest.json` and, per seed s and part p (initial, validation, newBatch, test),
 * `<out>/seed-s/p.x.f32` (row-major float32 [n, d]) and `<out>/seed-s/p.y.i32` (int32 labels).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadExperimentConfig } from '../src/experiments/config.js';
import { prepareData, textOptionsFor } from '../src/experiments/updateExperiment.js';
import { splitUpdateScenario } from '../src/data/split.js';
import { fitPreprocessing, applyPreprocessing } from '../src/data/preprocess.js';
import { rawSize, subsetRaw, type Dataset } from '../src/data/types.js';
import { writeRows } from './harness.js';

const opt = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
};
const configPath = opt('config') ?? 'configs/letter-update.yaml';
const out = opt('out');
if (!out) {
  console.error('export-mainjob-data: --out <dir> is required');
  process.exit(2);
}
const cfg = await loadExperimentConfig(configPath);
const seeds = opt('seeds')?.split(',').map(Number) ?? cfg.seeds;
const data = await prepareData(cfg);
const manifest: { config: string; model: unknown; training: unknown; seeds: number[]; features: number; classes: number; parts: Record<string, Record<string, number>> } = {
  config: resolve(configPath),
  model: cfg.model,
  training: cfg.training,
  seeds,
  features: 0,
  classes: 0,
  parts: {},
};
for (const seed of seeds) {
  // exactly what runTrial does (src/experiments/updateExperiment.ts)
  const split = splitUpdateScenario(rawSize(data.pool), { ...cfg.split, seed, source: data.pool.source });
  const initialRaw = subsetRaw(data.pool, split.initial);
  const spec = fitPreprocessing(initialRaw, textOptionsFor(cfg.model));
  const parts: Record<string, Dataset> = {
    initial: applyPreprocessing(spec, initialRaw),
    validation: applyPreprocessing(spec, subsetRaw(data.pool, split.validation)),
    newBatch: applyPreprocessing(spec, subsetRaw(data.pool, split.newBatch)),
    test: applyPreprocessing(spec, data.test),
  };
  const dir = join(out, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  manifest.parts[String(seed)] = Object.fromEntries(Object.entries(parts).map(([p, ds]) => [p, writeRows(dir, p, ds)]));
  manifest.features = parts.initial.featureShape[0];
  manifest.classes = spec.classNames.length;
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
