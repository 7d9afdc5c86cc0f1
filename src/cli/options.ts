import type { z } from 'zod';
import { InputError } from '../util/errors.js';
import type { TrainingConfig } from '../methods/fit.js';
import { DEFAULT_TRAINING, TRAINING_PARAMS, trainingFlag, type TrainingParam } from '../train/trainingParams.js';

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

/** commander's key of a flag declared as `--name-of-it <value>`: nameOfIt. */
type FlagKey<F> = F extends `--${infer N} ${string}` ? CamelCase<N> : F extends `--${infer N}` ? CamelCase<N> : never;
type CamelCase<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<CamelCase<B>>}` : S;

/** The training flags of every command that trains, derived from TRAINING_PARAMS (each flag's key and value type). */
export type TrainingFlags = { [K in TrainingParam as FlagKey<(typeof TRAINING_PARAMS)[K]['flag']>]?: z.output<(typeof TRAINING_PARAMS)[K]['schema']> };

/** The training parameters the flags give (TRAINING_PARAMS: each flag's key), `defaults` (the declared ones unless a command has its own) for those not given. */
export function trainingFromFlags(flags: TrainingFlags, defaults: TrainingConfig = DEFAULT_TRAINING): TrainingConfig {
  if (flags.patience === 0 && flags.monitor !== undefined) throw new InputError('--monitor', 'does not apply with --patience 0 (early stopping is off)');
  const given = flags as Record<string, unknown>;
  return Object.fromEntries(
    (Object.keys(TRAINING_PARAMS) as TrainingParam[]).map((name) => [name, given[optionKey(trainingFlag(name))] ?? defaults[name]]),
  ) as unknown as TrainingConfig;
}
