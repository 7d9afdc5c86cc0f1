import { z } from 'zod';
import type { LayersTopology, ModelConfig, MlpConfig, TransformerConfig } from './config.js';
import { logitsTopology } from './layersNetwork.js';

/** The default architecture for tabular data (that of the main job). */
export const DEFAULT_MLP: MlpConfig = { kind: 'mlp', hidden: [256, 256], dropout: 0.2 };

/** The default text model: an MLP over TF-IDF word n-grams (the search behind it: docs/text-models.md). */
export const DEFAULT_TEXT_MLP: MlpConfig = { kind: 'mlp', hidden: [256], dropout: 0.5 };

/** The default transformer (`--model transformer`) with light dropout (the search: docs/text-models.md); vocabSize and maxLen come from the preprocessing. */
export const DEFAULT_TRANSFORMER: TransformerConfig = { kind: 'transformer', vocabSize: 5000, maxLen: 64, dModel: 64, heads: 2, layers: 2, ff: 128, dropout: 0.1 };

const unit = z.number().min(0).max(1);
const positiveInt = z.number().int().positive();

/** A tfjs-layers topology as written in JSON: `{ class_name, config, … }`. */
const topologySchema = z.object({ class_name: z.string().min(1), config: z.record(z.string(), z.unknown()) }).catchall(z.unknown());

/**
 * A tfjs model.json (`{ modelTopology, weightsManifest, … }`, as `model.save()` writes it) or a
 * bare topology (`{ class_name, config }`) stands for the architecture `{ kind: 'layers', topology }`;
 * anything else is left as it is.
 */
export function tfjsArchitecture(value: unknown): unknown {
  if (!value || typeof value !== 'object' || 'kind' in value) return value;
  const v = value as Record<string, any>;
  if (v.modelTopology && typeof v.modelTopology === 'object') return { kind: 'layers', topology: v.modelTopology.model_config ?? v.modelTopology };
  if (typeof v.class_name === 'string' && v.config && typeof v.config === 'object') return { kind: 'layers', topology: v };
  return value;
}

/**
 * The one schema of an architecture as written in YAML/JSON (experiment configs, `--model-config`,
 * `--new-model`): a Distillery family by its numbers, or a team's own network — `{kind: layers,
 * topology}`, a tfjs model.json or a bare tfjs topology.
 */
const architectureSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('mlp'),
      hidden: z.array(positiveInt).default(DEFAULT_MLP.hidden),
      activation: z.enum(['relu', 'tanh', 'gelu']).optional(),
      dropout: unit.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('cnn'),
      conv: z.array(z.object({ filters: positiveInt, kernel: positiveInt, pool: positiveInt.optional() }).strict()).min(1),
      dense: z.array(positiveInt).default([128]),
      dropout: unit.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('transformer'),
      vocabSize: positiveInt.default(5000),
      maxLen: positiveInt.default(64),
      dModel: positiveInt.default(64),
      heads: positiveInt.default(2),
      layers: positiveInt.default(2),
      ff: positiveInt.default(128),
      dropout: unit.optional(),
      pool: z.literal('mean').optional(),
    })
    .strict(),
  z
    .object({ kind: z.literal('layers'), topology: topologySchema })
    .strict()
    // the network's logits: a final softmax taken off, a sigmoid refused (models/layersNetwork.ts)
    .transform((c) => ({ kind: c.kind, topology: logitsTopology(c.topology as LayersTopology, 'model architecture').topology })),
]);

export const modelConfigSchema = z.preprocess(tfjsArchitecture, architectureSchema) satisfies z.ZodType<ModelConfig, unknown>;
