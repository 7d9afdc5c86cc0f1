import { Command, Option } from 'commander';
import type { z } from 'zod';
import { DEFAULT_TRAINING, TRAINING_PARAMS, trainingFlag, type TrainingParam } from '../train/trainingParams.js';
import type { TrainingConfig } from '../models/recipe.js';
import { InputError } from '../util/errors.js';
import { describeZodError } from '../util/yamlFile.js';
import { parseInteger, parseNumber } from './options.js';
import { PATH_KINDS, pathOption } from './pathOptions.js';

/**
 * The flag of training parameter `name` (TRAINING_PARAMS): a choice among its values, or a
 * number parsed and checked against its declared range (errors name the flag); the help says
 * `help` (default: the declared one) and the default `shown` (default: the declared one).
 */
export function trainingOption(name: TrainingParam, help: string = TRAINING_PARAMS[name].help, shown: unknown = DEFAULT_TRAINING[name]): Option {
  const p = TRAINING_PARAMS[name];
  const option = new Option(p.flag, `${help} (default ${shown})`);
  const schema = p.schema as z.ZodType;
  if ('options' in schema) return option.choices((schema as z.ZodEnum).options as string[]);
  const number = schema as z.ZodNumber;
  const flag = trainingFlag(name);
  const bound = (x: number | null, none: number) => (x === null || Math.abs(x) >= Number.MAX_SAFE_INTEGER ? none : x);
  const parse = (number.isInt ? parseInteger : parseNumber)(flag.slice(2), bound(number.minValue, -Infinity), bound(number.maxValue, Infinity));
  return option.argParser((value: string) => {
    const x = parse(value);
    const checked = number.safeParse(x);
    if (checked.success) return x;
    // what the range parse lets through is an exclusive bound (a learning rate > 0)
    if (number.minValue !== null && x <= number.minValue) throw new InputError(flag, `${x} must be greater than ${number.minValue}`);
    throw new InputError(flag, `${x}: ${describeZodError(checked.error).replace(/^\(top level\): /, '')}`);
  });
}

/**
 * Adds a flag for every training parameter: help and default shown are the declared ones, or a
 * command's own (`defaults`: an experiment kind's tuning; `help`: what a parameter means there).
 */
export function addTrainingParamOptions(cmd: Command, defaults: Partial<TrainingConfig> = {}, help: Partial<Record<TrainingParam, string>> = {}): Command {
  for (const name of Object.keys(TRAINING_PARAMS) as TrainingParam[]) cmd.addOption(trainingOption(name, help[name], defaults[name] ?? DEFAULT_TRAINING[name]));
  return cmd;
}

/** The flag of each training parameter by its config key (`training.learningRate` → `--lr`), for errors that name a config key. */
export const TRAINING_FLAG_OF_KEY: Record<string, string> = Object.fromEntries(
  (Object.keys(TRAINING_PARAMS) as TrainingParam[]).map((name) => [`training.${name}`, trainingFlag(name)]),
);

/** Adds the optimisation flags every training command shares, with the hold-out and seed flags of a command that trains on one file. */
export function addTrainingOptions(cmd: Command): Command {
  return addTrainingParamOptions(cmd)
    .option('--validation <size>', 'validation examples held out of the training file: a count, or a fraction in (0,1) (default 0.1)', parseNumber('validation', 0))
    .option('--no-stratify', 'draw the --validation hold-out at random instead of stratified by class (by default each class gives its share, and keeps at least one example in training)')
    .addOption(pathOption('--validation-data <file|name>', 'labelled validation rows instead of a hold-out of --data (read like --data): early stopping and a churn budget are measured on rows no model trained on', PATH_KINDS.data))
    .option('--seed <n>', 'random seed: the same seed and data give the same model', parseInteger('seed'), 1);
}
