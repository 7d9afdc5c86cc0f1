/**
 * The settings of a codistillation run, each declared once: its YAML field, flag, help,
 * range and default. The zod schema (YAML), the CLI flags and their help derive from
 * CODISTILL_PARAMS.
 */
import { z } from 'zod';
import { modelConfigSchema } from '../models/configSchema.js';
import { InputError } from '../util/errors.js';
import { describeZodError, readYamlFile } from '../util/yamlFile.js';

interface Param<S extends z.ZodType<number>> {
  flag: string;
  help: string;
  schema: S;
  default: z.output<S>;
}
const param = <S extends z.ZodType<number>>(p: Param<S>) => p;

export const CODISTILL_PARAMS = {
  workers: param({ flag: '--workers', help: 'codistilling copies n, each a worker process on its own shard', schema: z.number().int().min(2).max(64), default: 2 }),
  steps: param({ flag: '--steps', help: 'optimizer steps per worker', schema: z.number().int().min(1), default: 2000 }),
  syncEvery: param({ flag: '--sync-every', help: "R: steps between a worker's publications and its reloads of the peers' checkpoints", schema: z.number().int().min(1), default: 50 }),
  weight: param({ flag: '--weight', help: "w: weight of the peers' term CE(mean σ(z̃_j), z_i)", schema: z.number().min(0).max(100), default: 1 }),
  burnIn: param({ flag: '--burn-in', help: 'B as a fraction of the steps: task loss alone before it', schema: z.number().min(0).max(1), default: 0.4 }),
  overlap: param({ flag: '--overlap', help: "rows added to each shard from the following shards, in units of the shard's size (0 = disjoint shards, n−1 = every worker sees all the data)", schema: z.number().min(0).max(63), default: 0 }),
  batchSize: param({ flag: '--batch-size', help: 'minibatch size', schema: z.number().int().min(1), default: 32 }),
  learningRate: param({ flag: '--lr', help: 'learning rate (Adam)', schema: z.number().positive().max(10), default: 1e-3 }),
  validation: param({ flag: '--validation', help: 'validation examples held out of the data: a count, or a fraction in (0,1)', schema: z.number().positive(), default: 0.1 }),
  seed: param({ flag: '--seed', help: 'random seed (shards, initial weights, batch order)', schema: z.number().int(), default: 1 }),
  peerTimeout: param({ flag: '--peer-timeout', help: 'seconds after burn-in before a peer that has published nothing is reported', schema: z.number().positive(), default: 300 }),
  workerThreads: param({ flag: '--worker-threads', help: 'engine threads of each worker process', schema: z.number().int().min(1).max(64), default: 1 }),
  maxRestarts: param({ flag: '--max-restarts', help: 'restarts of a crashed worker process before the run fails', schema: z.number().int().min(0).max(100), default: 3 }),
} as const;

export type CodistillParam = keyof typeof CODISTILL_PARAMS;

const numbers = Object.fromEntries(
  Object.entries(CODISTILL_PARAMS).map(([k, p]) => [k, (p.schema as z.ZodType<number>).default(p.default as number)]),
) as { [K in CodistillParam]: z.ZodDefault<(typeof CODISTILL_PARAMS)[K]['schema']> };

/** A codistillation run as written in YAML (`distillery codistill --config`). */
export const codistillConfigSchema = z
  .object({
    data: z.string().optional(),
    labelColumn: z.string().optional(),
    /** The architecture every worker trains (default: the default for the data). */
    model: modelConfigSchema.optional(),
    /**
     * Peers in step: at each reload a worker waits (up to peerTimeout) for every peer's
     * checkpoint of the same round, so a run is a function of its seeds, faults or not.
     * Off (the paper's asynchronous training): each worker takes the newest checkpoints.
     */
    lockstep: z.boolean().default(false),
    ...numbers,
  })
  .strict();

export type CodistillConfig = z.output<typeof codistillConfigSchema>;

/** Validates one flag's value against its declared range; errors name the flag. */
export function parseParamFlag(name: CodistillParam) {
  const p = CODISTILL_PARAMS[name];
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x)) throw new InputError(p.flag, `"${value}" is not a number`);
    const parsed = (p.schema as z.ZodType<number>).safeParse(x);
    if (!parsed.success) throw new InputError(p.flag, describeZodError(parsed.error).replace(/^\(top level\): /, ''));
    return parsed.data;
  };
}

/** The config from an optional YAML file, with flags given on the command line taking precedence. */
export async function resolveCodistillConfig(file: string | undefined, flags: Partial<Record<CodistillParam, number>>, lockstep?: boolean): Promise<CodistillConfig> {
  const fromFile = file ? await readYamlFile(file, codistillConfigSchema) : codistillConfigSchema.parse({});
  const given = Object.fromEntries(Object.entries(flags).filter(([k, v]) => k in CODISTILL_PARAMS && v !== undefined));
  return { ...fromFile, ...given, ...(lockstep ? { lockstep } : {}) };
}

export { burnInSteps } from '../train/codistillTogether.js';
