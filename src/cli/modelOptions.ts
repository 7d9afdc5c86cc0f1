import type { Option } from 'commander';
import type { ModelConfig } from '../models/config.js';
import type { PreprocessingSpec } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_MLP, DEFAULT_TEXT_MLP, DEFAULT_TRANSFORMER, modelConfigSchema } from '../models/configSchema.js';
import { textOptionsFor } from '../models/config.js';
import type { FitOptions } from '../data/preprocess.js';
import { readYamlFile } from '../util/yamlFile.js';
import { loadArchitecture } from '../models/io.js';
import type { TrainedModel } from '../models/types.js';
import { PATH_KINDS, pathOption } from './pathOptions.js';

/** `--new-model`: the new model's (and its reference ensemble's) architecture instead of the base model's. */
export const newModelOption = (): Option =>
  pathOption(
    '--new-model <path>',
    "architecture of the new model and of any reference ensemble trained here (default: the base model's own, freshly initialised): a tfjs model.json (its topology; weights unused), a model directory, or an architecture file ({kind: mlp, hidden: [128]})",
    PATH_KINDS.fileOrDir,
  );

/** The architecture an update trains: --new-model's, else the base model's own (never another one). */
export async function updateArchitecture(flags: { newModel?: string }, base: TrainedModel): Promise<ModelConfig> {
  return flags.newModel ? loadArchitecture(flags.newModel, '--new-model') : base.meta.architecture;
}

export interface ModelFlags {
  model?: 'mlp' | 'cnn' | 'transformer';
  hidden?: number[];
  modelConfig?: string;
}

/**
 * A sensible architecture for the kind of data, as used when no model flags are given: an
 * MLP for tables and for text (over TF-IDF n-grams, docs/text-models.md), a CNN for images.
 */
export function defaultArchitecture(spec: PreprocessingSpec, kind?: ModelFlags['model']): ModelConfig {
  const k = kind ?? (spec.kind === 'image' ? 'cnn' : 'mlp');
  switch (k) {
    case 'mlp':
      if (spec.kind === 'text') {
        if (spec.encoding !== 'tfidf') throw new InputError('--model', 'an mlp reads text as TF-IDF n-grams, but this text preprocessing makes token ids (a transformer\'s input)');
        return { ...DEFAULT_TEXT_MLP, hidden: [...DEFAULT_TEXT_MLP.hidden] };
      }
      return { ...DEFAULT_MLP, hidden: [...DEFAULT_MLP.hidden] };
    case 'cnn':
      return { kind: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] };
    case 'transformer': {
      if (spec.kind !== 'text') throw new InputError('--model', 'a transformer needs text data (JSONL)');
      if (spec.encoding === 'tfidf') throw new InputError('--model', 'a transformer reads token ids, but this text preprocessing is TF-IDF n-grams');
      return { ...DEFAULT_TRANSFORMER, vocabSize: spec.vocab.length, maxLen: spec.maxLen };
    }
  }
}

/** The text preprocessing the model flags imply (models/config.ts textOptionsFor). */
export function preprocessingOptionsFor(flags: ModelFlags, configured: ModelConfig | undefined): FitOptions {
  return textOptionsFor(configured ?? flags.model);
}

/** The architecture of --model-config (a YAML/JSON file), if given. */
export async function configuredArchitecture(flags: ModelFlags): Promise<ModelConfig | undefined> {
  if (!flags.modelConfig) return undefined;
  for (const [key, flag] of [['model', '--model'], ['hidden', '--hidden']] as const) {
    if (flags[key] !== undefined) throw new InputError(flag, 'does not apply with --model-config (the file gives the whole architecture)');
  }
  return readYamlFile(flags.modelConfig, modelConfigSchema, ' (kind: mlp, cnn or transformer; see docs/experiment-config.md)');
}

/** The architecture from --model-config (YAML/JSON file), else --model/--hidden, else the default for the data. */
export async function architectureFromFlags(flags: ModelFlags, spec: PreprocessingSpec): Promise<ModelConfig> {
  const configured = await configuredArchitecture(flags);
  if (configured) return configured;
  const arch = defaultArchitecture(spec, flags.model);
  if (flags.hidden) {
    if (arch.kind === 'mlp') arch.hidden = flags.hidden;
    else if (arch.kind === 'cnn') arch.dense = flags.hidden;
    else throw new InputError('--hidden', 'applies to mlp and cnn models only');
  }
  return arch;
}
