import { InputError } from '../util/errors.js';
import type { TrainingConfig } from '../methods/fit.js';
import { DEFAULT_TRAINING } from '../methods/fit.js';

/** commander's key of a flag: "--max-churn" or "max-churn" → "maxChurn". */
export function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses a number option, naming the option in the error. */
export function parseNumber(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x)) throw new InputError(`--${name}`, `"${value}" is not a number`);
    if (x < min || x > max) throw new InputError(`--${name}`, `${x} is outside [${min}, ${max}]`);
    return x;
  };
}

/** Parses an integer option. */
export function parseInteger(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const x = parseNumber(name, min, max)(value);
    if (!Number.isInteger(x)) throw new InputError(`--${name}`, `"${value}" is not an integer`);
    return x;
  };
}

/** Parses a comma-separated list of numbers, e.g. "128,128". */
export function parseNumberList(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number[] => value.split(',').map((v) => parseNumber(name, min, max)(v.trim()));
}

/** Options shared by every command that trains. */
export interface TrainingFlags {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: 'adam' | 'sgd';
  patience?: number;
  monitor?: 'loss' | 'accuracy';
}

export function trainingFromFlags(flags: TrainingFlags): TrainingConfig {
  if (flags.patience === 0 && flags.monitor !== undefined) throw new InputError('--monitor', 'does not apply with --patience 0 (early stopping is off)');
  return {
    epochs: flags.epochs ?? DEFAULT_TRAINING.epochs,
    batchSize: flags.batchSize ?? DEFAULT_TRAINING.batchSize,
    optimizer: flags.optimizer ?? DEFAULT_TRAINING.optimizer,
    learningRate: flags.lr ?? DEFAULT_TRAINING.learningRate,
    patience: flags.patience ?? DEFAULT_TRAINING.patience,
    monitor: flags.monitor ?? DEFAULT_TRAINING.monitor,
  };
}
