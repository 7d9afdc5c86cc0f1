/**
 * The optimisation parameters of every training run, declared once: each one's flag, help,
 * range (a zod schema) and default. Everything else is derived from this table: the defaults
 * the trainer falls back on (`trainModel`), `DEFAULT_TRAINING`, the `training:` block of an
 * experiment config (`trainingConfigSchema`), the CLI flags of every command that trains and
 * their parsing (`cli/trainingOptions.ts`, `transfer`'s flags), and the help text.
 */
import { z } from 'zod';
import type { TrainingConfig } from '../models/recipe.js';

interface Param<S extends z.ZodType, F extends string = string> {
  /** The CLI flag (commander's `--name <value>`: its key is the camelCase name). */
  flag: F;
  /** What the flag's help says, before its default. */
  help: string;
  schema: S;
  default: z.output<S>;
}
const param = <S extends z.ZodType, const F extends string>(p: Param<S, F>) => p;

export const TRAINING_PARAMS = {
  epochs: param({ flag: '--epochs <n>', help: 'maximum passes over the training data', schema: z.number().int().min(1), default: 150 }),
  batchSize: param({ flag: '--batch-size <n>', help: 'minibatch size', schema: z.number().int().min(1), default: 32 }),
  learningRate: param({ flag: '--lr <x>', help: 'learning rate', schema: z.number().positive().max(10), default: 1e-3 }),
  optimizer: param({ flag: '--optimizer <name>', help: 'optimizer', schema: z.enum(['adam', 'sgd']), default: 'adam' }),
  patience: param({ flag: '--patience <n>', help: 'early-stopping patience in epochs without validation improvement, 0 = off', schema: z.number().int().min(0), default: 20 }),
  monitor: param({ flag: '--monitor <metric>', help: 'early stopping watches validation loss or accuracy', schema: z.enum(['loss', 'accuracy']), default: 'loss' }),
} as const satisfies { [K in keyof TrainingConfig]-?: Param<z.ZodType<NonNullable<TrainingConfig[K]>>> };

export type TrainingParam = keyof typeof TRAINING_PARAMS;

/** The flag of a training parameter without its value placeholder (`--lr`). */
export const trainingFlag = (name: TrainingParam): string => TRAINING_PARAMS[name].flag.split(' ')[0];

/** The defaults of every training parameter (those of the main job, configs/letter-update.yaml). */
export const DEFAULT_TRAINING: Required<TrainingConfig> = Object.fromEntries(Object.entries(TRAINING_PARAMS).map(([k, p]) => [k, p.default])) as unknown as Required<TrainingConfig>;

/** A `training:` block: every parameter in its declared range, defaulted to `defaults` where given (an experiment kind's own tuning), else to the declared default. */
export function trainingSchema(defaults: Partial<TrainingConfig> = {}) {
  const d: Record<string, unknown> = { ...DEFAULT_TRAINING, ...defaults };
  return z
    .object(Object.fromEntries(Object.entries(TRAINING_PARAMS).map(([k, p]) => [k, (p.schema as z.ZodType).default(d[k])])) as { [K in TrainingParam]: z.ZodDefault<(typeof TRAINING_PARAMS)[K]['schema']> })
    .strict();
}

/** The `training:` block of an update experiment's config. */
export const trainingConfigSchema = trainingSchema().default(DEFAULT_TRAINING);
