import { z } from 'zod';
import { dirname, resolve as resolvePath } from 'node:path';
import { loadArchitecture } from '../models/io.js';
import { trainingConfigSchema } from '../train/trainingParams.js';
import { methodEntrySchema, methodNamed, resolveMethod, type MethodName, type UpdateMethodSpec } from '../methods/registry.js';
import { DEFAULT_ENSEMBLE_MEMBERS, MAX_ENSEMBLE_MEMBERS } from '../methods/ensemble.js';
import { checkRetrainOldMethod } from '../methods/retrainOld.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_MLP, modelConfigSchema } from '../models/configSchema.js';
import { describeZodError, parseWith, readYamlFile } from '../util/yamlFile.js';
import { transferExperimentSchema, type TransferExperimentConfig } from './transferConfig.js';
import { reproducibilitySchema, type ReproducibilityConfig } from './reproducibility.js';

export { DEFAULT_MLP } from '../models/configSchema.js';

const positiveInt = z.number().int().positive();

/** A method as written in a config: a bare name or an object with parameters (schema derived from the method registry). */
const methodSchema = methodEntrySchema() as unknown as z.ZodType<MethodName | UpdateMethodSpec, unknown>;

/**
 * Where a method's reference logits come from in an experiment: the trial's base model, or
 * a homogeneous ensemble of `members` models of the configured architecture trained on the
 * update's training data (once per seed, shared by every method that names it).
 */
export const referenceConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('base') }).strict(),
  z.object({ kind: z.literal('ensemble'), members: z.number().int().min(2, 'an ensemble needs at least 2 members').max(MAX_ENSEMBLE_MEMBERS).default(DEFAULT_ENSEMBLE_MEMBERS) }).strict(),
]);
export type ReferenceConfig = z.infer<typeof referenceConfigSchema>;

/** One entry of `methods`: a method, optionally with the reference it reads. */
const methodEntry = z.union([
  // an entry with a reference first: without one it fails at once on the missing key, and the method branch reports
  z.object({ reference: referenceConfigSchema }).catchall(z.unknown()).transform((v, ctx) => {
    const { reference, ...method } = v;
    const parsed = methodSchema.safeParse(method);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: describeZodError(parsed.error, methodSchema, method).replace(/^\(top level\): /, '') });
      return z.NEVER;
    }
    return typeof parsed.data === 'string' ? { method: parsed.data, reference } : { ...parsed.data, reference };
  }),
  // (an entry with a reference is the branch above's alone, whatever its problem)
  z.custom((v) => !(v !== null && typeof v === 'object' && 'reference' in v)).pipe(methodSchema),
]);

const countOrRest = z.union([positiveInt, z.literal('rest')]);

/** The experiment kinds `distillery run` reads (`kind:`, update when absent); each has its own schema and runner. */
export const EXPERIMENT_KINDS = ['update', 'transfer', 'reproducibility'] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

/** The declarative update experiment (YAML or JSON). See docs/experiment-config.md. */
export const updateExperimentSchema = z
  .object({
    /** What the experiment does: `update` (base model → new model with each method). */
    kind: z.literal('update').default('update'),
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
      .strict()
      .default({ initial: 1000, validation: 100, newBatch: 1000 }),
    model: modelConfigSchema.default(DEFAULT_MLP),
    training: trainingConfigSchema,
    /** One trial per seed: a fresh split, base model and update for every method. */
    seeds: z.array(z.number().int()).min(1).default([1, 2, 3]),
    methods: z.array(methodEntry).min(1).default(['plain', { method: 'distill', lambda: 0.5 }]),
    /**
     * ELODI's variant where the old model can be retrained: each trial's base model is trained
     * with this method (elodi) toward an ensemble of its own on the initial sample, instead of
     * on the labels alone.
     */
    retrainOld: methodEntry.optional(),
    bootstrap: z
      .object({ resamples: positiveInt.default(1000), level: z.number().gt(0).lt(1).default(0.95) })
      .strict()
      .default({ resamples: 1000, level: 0.95 }),
  })
  .strict();

export type UpdateExperimentConfig = z.infer<typeof updateExperimentSchema>;
/** A `methods` entry as the config holds it. */
export type MethodEntry = UpdateExperimentConfig['methods'][number];
/** A method entry resolved: the method with its defaults, and its reference (default: the base model). */
export interface ResolvedMethodEntry {
  spec: UpdateMethodSpec;
  reference: ReferenceConfig;
}

/** Normalises a config method entry to a full UpdateMethodSpec with defaults filled in. */
export function normaliseMethod(m: MethodEntry): UpdateMethodSpec {
  return resolveEntry(m).spec;
}

/** The reference a method reads when its entry names none: the base model, or (ELODI, the paragon) an ensemble of the default size. */
export function defaultReference(method: string): ReferenceConfig {
  return methodNamed(method).reference === 'ensemble' ? { kind: 'ensemble', members: DEFAULT_ENSEMBLE_MEMBERS } : { kind: 'base' };
}

/** A config method entry with its defaults and its reference source. */
export function resolveEntry(m: MethodEntry): ResolvedMethodEntry {
  if (typeof m === 'string') return { spec: resolveMethod(m), reference: defaultReference(m) };
  const { reference, ...method } = m as UpdateMethodSpec & { reference?: ReferenceConfig };
  const spec = resolveMethod(method as UpdateMethodSpec);
  return { spec, reference: reference ?? defaultReference(spec.method) };
}

/** Checks across fields that the schema cannot: a retrainOld method must train one model toward an ensemble. */
function checkConfig(cfg: UpdateExperimentConfig, source: string): UpdateExperimentConfig {
  if (cfg.retrainOld) {
    const entry = resolveEntry(cfg.retrainOld);
    checkRetrainOldMethod(entry.spec, `${source}: retrainOld`);
    if (entry.reference.kind !== 'ensemble') throw new InputError(`${source}: retrainOld`, 'the old model is retrained toward an ensemble: its reference must be {kind: ensemble}');
  }
  return cfg;
}

/** Validates a config object; errors name the offending field. */
export function parseExperimentConfig(value: unknown, source = 'experiment config'): UpdateExperimentConfig {
  return checkConfig(parseWith(updateExperimentSchema, value ?? {}, source), source);
}

/** Reads a YAML or JSON experiment config file. */
export async function loadExperimentConfig(path: string): Promise<UpdateExperimentConfig> {
  const raw = await withModelFile(await readYamlFile(path, z.unknown()), path);
  return checkConfig(parseWith(updateExperimentSchema, raw ?? {}, path), path);
}

/**
 * `model:` given as a path (a tfjs model.json, a model directory or an architecture file,
 * relative to the config file) replaced by the architecture it holds.
 */
async function withModelFile(raw: unknown, configPath: string): Promise<unknown> {
  if (!raw || typeof raw !== 'object' || typeof (raw as { model?: unknown }).model !== 'string') return raw;
  const file = resolvePath(dirname(configPath), (raw as { model: string }).model);
  return { ...raw, model: await loadArchitecture(file, `${configPath}: model`) };
}

/** Any experiment config, by its `kind` (update when absent). */
export type AnyExperimentConfig = UpdateExperimentConfig | TransferExperimentConfig | ReproducibilityConfig;

/** Reads an experiment config file of any kind of EXPERIMENT_KINDS; another kind is an error naming the file's `kind` key and the kinds. */
export async function loadAnyExperimentConfig(path: string): Promise<AnyExperimentConfig> {
  const raw = await readYamlFile(path, z.unknown());
  const given = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
  const kind = (given ?? 'update') as ExperimentKind;
  if (!EXPERIMENT_KINDS.includes(kind)) throw new InputError(`${path}: kind`, `${JSON.stringify(given)} is not one of ${EXPERIMENT_KINDS.join(', ')}`);
  switch (kind) {
    case 'transfer':
      return parseWith(transferExperimentSchema, raw, path);
    case 'reproducibility':
      return parseWith(reproducibilitySchema, raw, path);
    case 'update':
      return checkConfig(parseWith(updateExperimentSchema, (await withModelFile(raw, path)) ?? {}, path), path);
  }
}
