/**
 * Reproducibility (methods.md §2, claim b): train the same recipe k times with different
 * seeds on the same data and measure how much independent retrains disagree on a fixed test
 * set — churn (share of test rows whose predicted class differs) and prediction difference
 * (mean total-variation distance of the class probabilities) — for plain training, for
 * codistillation (worker 0 of n copies codistilled in synchronous rounds) and for an
 * ensemble of two plain models (the usual, twice-as-costly remedy). Retrains are paired
 * (runs 0–1, 2–3, …); intervals are Student-t over the pairs, each pair a fresh seed pair.
 * Every retrain is a function of the config, its recipe and its run number only, so they run
 * `jobs` at a time on the worker pool (`reproducibility-retrain` tasks) with the same result.
 * This file holds the study's config and one retrain (the task's work); reproducibilityStudy.ts
 * runs the study.
 */
import { z } from 'zod';
import { loadData } from '../data/builtin.js';
import { applyPreprocessing, fitPreprocessing } from '../data/preprocess.js';
import { splitUpdateScenario } from '../data/split.js';
import { rawSize, subsetDataset, subsetRaw, type Dataset } from '../data/types.js';
import { buildNetwork } from '../models/build.js';
import { modelConfigSchema, DEFAULT_MLP } from '../models/configSchema.js';
import { softmax } from '../models/logits.js';
import { deriveSeed } from '../models/layers.js';
import { predictLogits } from '../models/predict.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import { trainModel } from '../train/trainer.js';
import { CODISTILL_PARAMS } from '../codistill/config.js';
import { shardRows } from '../codistill/shards.js';
import { codistillTogether } from '../train/codistillTogether.js';
import type { MeanCI } from '../metrics/bootstrap.js';
import { parseWith, readYamlFile } from '../util/yamlFile.js';
import { withParamNamesSync } from '../util/errors.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export const REPRODUCIBILITY_RECIPES = ['plain', 'codistill', 'ensemble'] as const;
export type ReproducibilityRecipe = (typeof REPRODUCIBILITY_RECIPES)[number];

const p = CODISTILL_PARAMS;
const count = z.number().int().positive();

export const reproducibilitySchema = z
  .object({
    kind: z.literal('reproducibility').default('reproducibility'),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/).default('reproducibility'),
    data: z.string().default('letter'),
    labelColumn: z.string().optional(),
    /** Held-out test rows, and training rows (the same for every retrain), drawn with `splitSeed`. */
    testSize: count.default(4000),
    trainSize: z.union([count, z.literal('rest')]).default('rest'),
    splitSeed: z.number().int().default(0),
    model: modelConfigSchema.default(DEFAULT_MLP),
    training: z
      .object({ steps: p.steps.schema.default(1500), batchSize: p.batchSize.schema.default(p.batchSize.default), learningRate: p.learningRate.schema.default(p.learningRate.default) })
      .strict()
      .default({ steps: 1500, batchSize: p.batchSize.default, learningRate: p.learningRate.default }),
    codistill: z
      .object({
        workers: p.workers.schema.default(p.workers.default),
        syncEvery: p.syncEvery.schema.default(p.syncEvery.default),
        weight: p.weight.schema.default(p.weight.default),
        burnIn: p.burnIn.schema.default(p.burnIn.default),
        overlap: p.overlap.schema.default(p.overlap.default),
      })
      .strict()
      .default({ workers: p.workers.default, syncEvery: p.syncEvery.default, weight: p.weight.default, burnIn: p.burnIn.default, overlap: p.overlap.default }),
    recipes: z.array(z.enum(REPRODUCIBILITY_RECIPES)).min(1).default([...REPRODUCIBILITY_RECIPES]),
    /** Retrains per recipe (pairs: runs/2). */
    runs: z.number().int().min(2).max(200).default(10),
    seed: z.number().int().default(1),
  })
  .strict();

export type ReproducibilityConfig = z.output<typeof reproducibilitySchema>;

export function parseReproducibilityConfig(value: unknown, source = 'reproducibility config'): ReproducibilityConfig {
  return parseWith(reproducibilitySchema, value ?? {}, source);
}

export function loadReproducibilityConfig(path: string): Promise<ReproducibilityConfig> {
  return readYamlFile(path, reproducibilitySchema);
}

export interface PairMetrics {
  runs: [number, number];
  churn: number;
  predictionDifference: number;
  /** Mean test accuracy of the two retrains. */
  accuracy: number;
}

export interface RecipeSummary {
  recipe: ReproducibilityRecipe;
  pairs: PairMetrics[];
  churn: MeanCI;
  predictionDifference: MeanCI;
  accuracy: MeanCI;
  /** Per pair churn / plain's churn on the same seed pair (absent for plain or without it). */
  churnRatioToPlain?: MeanCI;
  pdRatioToPlain?: MeanCI;
}

export interface ReproducibilityResult {
  format: 'distillery-reproducibility';
  config: ReproducibilityConfig;
  trainRows: number;
  testRows: number;
  recipes: RecipeSummary[];
  engine?: string;
  seconds: number;
}

/** The seed of retrain r. */
export function runSeed(cfg: Pick<ReproducibilityConfig, 'seed'>, run: number): number {
  return deriveSeed(cfg.seed, `retrain-${run}`);
}

function testProbs(model: LayersModel, test: Dataset): Float32Array {
  return softmax(predictLogits(model, test.features, test.featureShape), test.classNames.length);
}

async function trainPlain(cfg: ReproducibilityConfig, train: Dataset, seed: number): Promise<LayersModel> {
  const model = await buildNetwork(cfg.model, train.featureShape, train.classNames.length, seed);
  const t = cfg.training;
  await trainModel(model, train, { objective: crossEntropyObjective(), maxSteps: t.steps, epochs: Math.ceil((t.steps * t.batchSize) / train.labels.length) + 1, batchSize: t.batchSize, learningRate: t.learningRate, seed });
  return model;
}

/** The training rows (the same for every retrain) and the fixed test set. */
export interface ReproducibilityData {
  train: Dataset;
  test: Dataset;
}

export async function prepareReproducibilityData(cfg: ReproducibilityConfig): Promise<ReproducibilityData> {
  const raw = await loadData(cfg.data, { labelColumn: cfg.labelColumn });
  // the study's test and training rows are the scenario's test and initial parts: errors name the config's keys
  const split = withParamNamesSync('library', { test: 'testSize', initial: 'trainSize' }, 'config', () =>
    splitUpdateScenario(rawSize(raw), { seed: cfg.splitSeed, test: cfg.testSize, initial: cfg.trainSize, validation: 0, newBatch: 0, source: cfg.data }),
  );
  const spec = fitPreprocessing(subsetRaw(raw, split.initial));
  return { train: applyPreprocessing(spec, subsetRaw(raw, split.initial)), test: applyPreprocessing(spec, subsetRaw(raw, split.test)) };
}

/** Test probabilities of retrain `run` of `recipe`. */
export async function retrainTestProbs(cfg: ReproducibilityConfig, recipe: ReproducibilityRecipe, run: number, { train, test }: ReproducibilityData): Promise<Float32Array> {
  const seed = runSeed(cfg, run);
  if (recipe === 'plain' || recipe === 'ensemble') {
    const members = recipe === 'plain' ? [seed] : [seed, deriveSeed(seed, 'ensemble-member-2')];
    const probs: Float32Array[] = [];
    for (const s of members) {
      const m = await trainPlain(cfg, train, s);
      probs.push(testProbs(m, test));
      m.dispose();
    }
    return probs.length === 1 ? probs[0] : probs[0].map((x, i) => (x + probs[1][i]) / 2);
  }
  const c = cfg.codistill;
  const shards = Array.from({ length: c.workers }, (_, i) => subsetDataset(train, shardRows(train.labels.length, c.workers, i, c.overlap, seed)));
  const { models } = await codistillTogether({
    architecture: cfg.model,
    shards,
    seeds: shards.map((_, i) => deriveSeed(seed, `codistill-worker-${i}`)),
    config: { ...c, ...cfg.training },
  });
  const probs = testProbs(models[0], test);
  for (const m of models) m.dispose();
  return probs;
}
