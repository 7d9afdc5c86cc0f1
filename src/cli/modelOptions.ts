import type { ModelConfig } from '../models/config.js';
import type { PreprocessingSpec } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { DEFAULT_MLP, modelConfigSchema } from '../models/configSchema.js';
import { readYamlFile } from '../util/yamlFile.js';

export interface ModelFlags {
  model?: 'mlp' | 'cnn' | 'transformer';
  hidden?: number[];
  modelConfig?: string;
}

/** A sensible architecture for the kind of data, as used when no model flags are given. */
export function defaultArchitecture(spec: PreprocessingSpec, kind?: ModelFlags['model']): ModelConfig {
  const k = kind ?? (spec.kind === 'tabular' ? 'mlp' : spec.kind === 'image' ? 'cnn' : 'transformer');
  switch (k) {
    case 'mlp':
      return { ...DEFAULT_MLP, hidden: [...DEFAULT_MLP.hidden] };
    case 'cnn':
      return { kind: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] };
    case 'transformer': {
      if (spec.kind !== 'text') throw new InputError('--model', 'a transformer needs text data (JSONL)');
      return { kind: 'transformer', vocabSize: spec.vocab.length, maxLen: spec.maxLen, dModel: 64, heads: 2, layers: 2, ff: 128 };
    }
  }
}

export { textOptionsFor } from '../models/config.js';

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
