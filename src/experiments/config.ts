import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { readFile } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import type { UpdateMethodSpec } from '../methods/spec.js';
import { METHOD_DEFAULTS } from '../methods/spec.js';
import { DEFAULT_TRAINING } from '../methods/fit.js';
import type { MlpConfig } from '../models/config.js';

/** The default architecture for tabular data (that of the main job). */
export const DEFAULT_MLP: MlpConfig = { kind: 'mlp', hidden: [256, 256], dropout: 0.2 };

const unit = z.number().min(0).max(1);
const positiveInt = z.number().int().positive();

const modelSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('mlp'),
    hidden: z.array(positiveInt).default(DEFAULT_MLP.hidden),
    activation: z.enum(['relu', 'tanh', 'gelu']).optional(),
    dropout: unit.optional(),
  }),
  z.object({
    kind: z.literal('cnn'),
    conv: z.array(z.object({ filters: positiveInt, kernel: positiveInt, pool: positiveInt.optional() })).min(1),
    dense: z.array(positiveInt).default([128]),
    dropout: unit.optional(),
  }),
  z.object({
    kind: z.literal('transformer'),
    vocabSize: positiveInt.default(5000),
    maxLen: positiveInt.default(64),
    dModel: positiveInt.default(64),
    heads: positiveInt.default(2),
    layers: positiveInt.default(2),
    ff: positiveInt.default(128),
    dropout: unit.optional(),
    pool: z.literal('mean').optional(),
  }),
]);

/** A method as written in a config: a bare name or an object with parameters. */
const methodSchema = z.union([
  z.enum(['plain', 'distill', 'anchor', 'label-smoothing']),
  z.object({ method: z.literal('plain') }),
  z.object({ method: z.literal('distill'), lambda: unit.default(METHOD_DEFAULTS.distill.lambda) }),
  z.object({
    method: z.literal('anchor'),
    alpha: unit.default(METHOD_DEFAULTS.anchor.alpha),
    epsilon: unit.default(METHOD_DEFAULTS.anchor.epsilon),
  }),
  z.object({ method: z.literal('label-smoothing'), epsilon: unit.default(METHOD_DEFAULTS['label-smoothing'].epsilon) }),
  z.object({
    method: z.literal('churn-budget'),
    maxChurn: unit,
    lambdas: z.array(unit).min(1).optional(),
    refinements: z.number().int().min(0).optional(),
  }),
]);

const countOrRest = z.union([positiveInt, z.literal('rest')]);

/** The declarative update experiment (YAML or JSON). See docs/experiment-config.md. */
export const updateExperimentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').default('update-experiment'),
    /** Built-in dataset name ("letter", "fashion-mnist") or a CSV/JSONL file path. */
    data: z.string().default('letter'),
    labelColumn: z.string().optional(),
    /** Separate labelled test file; otherwise `testSize` examples are held out. */
    testData: z.string().optional(),
    /** Held-out test examples (count, or a fraction in (0,1)), drawn once with `splitSeed`. */
    testSize: z.number().positive().default(4000),
    splitSeed: z.number().int().default(0),
    split: z
      .object({
        initial: countOrRest.default(1000),
        validation: positiveInt.default(100),
        newBatch: countOrRest.default(1000),
      })
      .default({ initial: 1000, validation: 100, newBatch: 1000 }),
    model: modelSchema.default(DEFAULT_MLP),
    training: z
      .object({
        epochs: positiveInt.default(DEFAULT_TRAINING.epochs),
        batchSize: positiveInt.default(DEFAULT_TRAINING.batchSize),
        optimizer: z.enum(['adam', 'sgd']).default(DEFAULT_TRAINING.optimizer),
        learningRate: z.number().positive().default(DEFAULT_TRAINING.learningRate),
        patience: z.number().int().min(0).default(DEFAULT_TRAINING.patience),
        monitor: z.enum(['loss', 'accuracy']).default('loss'),
      })
      .default(DEFAULT_TRAINING),
    /** One trial per seed: a fresh split, base model and update for every method. */
    seeds: z.array(z.number().int()).min(1).default([1, 2, 3]),
    methods: z.array(methodSchema).min(1).default(['plain', { method: 'distill', lambda: 0.5 }]),
    bootstrap: z
      .object({ resamples: positiveInt.default(1000), level: z.number().gt(0).lt(1).default(0.95) })
      .default({ resamples: 1000, level: 0.95 }),
  })
  .strict();

export type UpdateExperimentConfig = z.infer<typeof updateExperimentSchema>;

/** Normalises a config method entry to a full UpdateMethodSpec with defaults filled in. */
export function normaliseMethod(m: z.infer<typeof methodSchema>): UpdateMethodSpec {
  if (typeof m !== 'string') return m as UpdateMethodSpec;
  switch (m) {
    case 'plain':
      return { method: 'plain' };
    case 'distill':
      return { method: 'distill', ...METHOD_DEFAULTS.distill };
    case 'anchor':
      return { method: 'anchor', ...METHOD_DEFAULTS.anchor };
    case 'label-smoothing':
      return { method: 'label-smoothing', ...METHOD_DEFAULTS['label-smoothing'] };
  }
}

/** Validates a config object; errors name the offending field. */
export function parseExperimentConfig(value: unknown, source = 'experiment config'): UpdateExperimentConfig {
  const parsed = updateExperimentSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new InputError(source, `${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads a YAML or JSON experiment config file. */
export async function loadExperimentConfig(path: string): Promise<UpdateExperimentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e: any) {
    throw new InputError(path, e?.code === 'ENOENT' ? 'file not found' : `cannot be read (${e?.message})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e: any) {
    throw new InputError(path, `is not valid YAML/JSON: ${String(e?.message ?? e).split('\n')[0]}`);
  }
  return parseExperimentConfig(value, path);
}
