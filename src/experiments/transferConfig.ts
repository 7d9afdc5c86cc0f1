/**
 * The declarative transfer experiment (`kind: transfer`, YAML or JSON; docs/experiment-config.md):
 * a teacher (a saved model, or an architecture trained per seed), a simple student, candidate
 * intermediate models, the per-hop method grid and the chain search, over seeds.
 */
import { z } from 'zod';
import { trainingSchema } from '../train/trainingParams.js';
import { HOP_METHODS, methodEntrySchema, resolveMethod, type MethodName, type UpdateMethodSpec } from '../methods/registry.js';
import { studentConfigSchema, type StudentConfig } from '../methods/transfer/students.js';
import { modelConfigSchema } from '../models/configSchema.js';
import type { MlpConfig } from '../models/config.js';
import { parseConfigValue, parseWith } from '../util/yamlFile.js';

const positiveInt = z.number().int().positive();

/** Seeds of a transfer experiment when none are given. */
export const DEFAULT_TRANSFER_SEEDS = [1, 2, 3, 4, 5];

/**
 * The per-hop grid when none is given (our choice, docs/multihop.md): no transfer first (the
 * fallback), KD at two strengths, soft targets, ProfWeight and SRatio.
 */
export const DEFAULT_HOP_GRID: UpdateMethodSpec[] = [
  { method: 'plain' },
  { method: 'kd', alpha: 0.5, temperature: 4 },
  { method: 'kd', alpha: 0.9, temperature: 2 },
  { method: 'distill', lambda: 0.5 },
  { method: 'profweight', top: 2, floor: 0.1, probeEpochs: 30 },
  { method: 'sratio', cap: 3 },
];

const hopMethodSchema = (methodEntrySchema() as unknown as z.ZodType<MethodName | UpdateMethodSpec, unknown>)
  .transform((m) => resolveMethod(m))
  .refine((m) => (HOP_METHODS as readonly string[]).includes(m.method), { message: `a hop's method is one of ${HOP_METHODS.join(', ')}` });

const mlpCandidateSchema = z.union([
  z.string().transform((s, ctx) => {
    const m = /^mlp:(\d+(,\d+)*)$/.exec(s.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not an intermediate model; use mlp:<widths>, e.g. mlp:64 or mlp:256,256` });
      return z.NEVER;
    }
    return { kind: 'mlp' as const, hidden: m[1].split(',').map(Number) };
  }),
  z.object({ kind: z.literal('mlp'), hidden: z.array(positiveInt).min(1), activation: z.enum(['relu', 'tanh', 'gelu']).optional(), dropout: z.number().min(0).lt(1).optional() }).strict(),
]) as unknown as z.ZodType<MlpConfig, unknown>;

/** Training settings of every model of a transfer when none are given (the tuning in docs/multihop.md). */
const transferTrainingSchema = trainingSchema({ epochs: 60, batchSize: 64, learningRate: 3e-3, patience: 10, monitor: 'accuracy' });
export const TRANSFER_TRAINING = transferTrainingSchema.parse({});

export const transferExperimentSchema = z
  .object({
    kind: z.literal('transfer'),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only').default('transfer-experiment'),
    /** Built-in dataset name or a CSV/JSONL file. */
    data: z.string().default('letter'),
    labelColumn: z.string().optional(),
    testData: z.string().optional(),
    testSize: z.number().positive().default(4000),
    splitSeed: z.number().int().default(0),
    /** Per seed, drawn from what the test hold-out leaves: the training and validation rows of every model. */
    split: z.object({ train: z.union([z.number().positive(), z.literal('rest')]).default(4000), validation: z.number().positive().default(1000) }).strict().default({ train: 4000, validation: 1000 }),
    /** A saved model directory (`path`), or an architecture trained per seed on that seed's training rows. */
    teacher: z.union([z.object({ path: z.string().min(1) }).strict(), z.object({ model: modelConfigSchema, training: transferTrainingSchema.optional() }).strict()]),
    student: studentConfigSchema,
    /** Intermediate models: `auto` (a width/depth ladder of `rungs` MLPs) or a list (mlp:<widths> or {kind: mlp, hidden}). */
    candidates: z.union([z.literal('auto'), z.array(mlpCandidateSchema).max(16)]).default('auto'),
    rungs: positiveInt.max(8).default(3),
    /** The methods tried on every hop; 'plain' is put first when missing (the no-transfer fallback). */
    methods: z.array(hopMethodSchema).min(1).default(DEFAULT_HOP_GRID),
    search: z.enum(['greedy', 'exhaustive']).default('greedy'),
    training: transferTrainingSchema.default(TRANSFER_TRAINING),
    seeds: z.array(z.number().int()).min(1).default(DEFAULT_TRANSFER_SEEDS),
    level: z.number().gt(0).lt(1).default(0.95),
  })
  .strict();

export type TransferExperimentConfig = z.infer<typeof transferExperimentSchema>;
export type { StudentConfig };

/**
 * Validates a transfer config object; errors name the offending field, after `source` when
 * given, else as a ParamError of config keys (for a command that built the config from its flags).
 */
export function parseTransferConfig(value: unknown, source?: string): TransferExperimentConfig {
  return source === undefined ? parseConfigValue(transferExperimentSchema, value ?? {}) : parseWith(transferExperimentSchema, value ?? {}, source);
}

/** The grid with 'plain' first (the fallback that keeps a transfer from being worse than none on validation). */
export function hopGrid(cfg: Pick<TransferExperimentConfig, 'methods'>): UpdateMethodSpec[] {
  const rest = cfg.methods.filter((m) => m.method !== 'plain');
  return [{ method: 'plain' }, ...rest];
}
