/**
 * A team's own tfjs network as a Distillery model: `fromLayersModel(net, { classes, columns })`
 * in code, or, for the command line, a directory saved by plain tfjs (`model.save('file://…')`:
 * model.json + weights) with a small sidecar, distillery-input.json, that says what the network
 * reads and what its outputs mean. Both take the same fields (ModelInput):
 *
 *   classes       the class names, in the order of the network's outputs;
 *   columns       tabular input: the data's columns the network reads, in order, fed as they
 *                 are in the file (a network that standardises its inputs itself, or data
 *                 already standardised); `labelColumn` names the label column (default "label");
 *   image         image input: `{ shape: [h, w, c], scale }` (pixels × scale; default 1/255);
 *   preprocessing a whole preprocessing spec, as in a model directory's distillery.json
 *                 (standardisation, categories, dates, text vocabularies).
 *
 * The network's logits are what Distillery reads: a final softmax is taken off (see
 * layersNetwork.ts); its architecture (`kind: 'layers'`) is what an update trains afresh.
 */
import { z } from 'zod';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PreprocessingSpec } from '../data/types.js';
import { featureShapeOf } from '../data/preprocess.js';
import type { TrainedModel } from './types.js';
import { logitsTopology, networkFromTopology, networkTopology } from './layersNetwork.js';
import { importedRecipe, networkMetadata } from './metadata.js';
import { outputWidth } from './predict.js';
import { InputError } from '../util/errors.js';

/** The sidecar of a plain tfjs model directory. */
export const MODEL_INPUT_JSON = 'distillery-input.json';

const className = z.string().min(1);

/** What a network reads and what its outputs mean (fromLayersModel's options, the sidecar's fields). */
export const modelInputSchema = z
  .object({
    classes: z.array(className).min(2).optional(),
    columns: z.array(z.string().min(1)).min(1).optional(),
    labelColumn: z.string().min(1).optional(),
    image: z
      .object({
        shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]).optional(),
        scale: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    preprocessing: z.custom<PreprocessingSpec>((v) => typeof v === 'object' && v !== null && ['tabular', 'image', 'text'].includes((v as { kind?: string }).kind ?? ''), {
      message: 'must be a preprocessing spec (kind tabular, image or text, with classNames), as in distillery.json',
    }).optional(),
  })
  .strict();

export type ModelInput = z.infer<typeof modelInputSchema>;

export interface FromLayersModelOptions extends ModelInput {
  /** Recorded as the model's seed (default 0): a deployed model's seed, if it is known. */
  seed?: number;
  /** The model's id in reports and recipes (default: a new random id). */
  id?: string;
  /** What errors name (default "fromLayersModel"): a parameter, or the directory a model came from. */
  source?: string;
}

/** The preprocessing `input` describes for a network taking examples of `inputShape`. */
export function inputPreprocessing(input: ModelInput, inputShape: number[], source: string): PreprocessingSpec {
  const given = (['columns', 'image', 'preprocessing'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(source, given.length === 0 ? 'says nothing of the input: give one of columns (tabular), image, or preprocessing' : `gives both ${given.join(' and ')}; give one`);
  }
  let spec: PreprocessingSpec;
  if (input.preprocessing) {
    spec = input.preprocessing;
    if (!Array.isArray(spec.classNames) || spec.classNames.length < 2 || !spec.classNames.every((c) => typeof c === 'string')) {
      throw new InputError(source, 'preprocessing.classNames must list the class names (at least 2)');
    }
    if (input.classes && input.classes.join('\u0000') !== spec.classNames.join('\u0000')) {
      throw new InputError(source, `classes (${input.classes.join(', ')}) differ from preprocessing.classNames (${spec.classNames.join(', ')})`);
    }
  } else {
    if (!input.classes) throw new InputError(source, 'classes is required: the class names in the order of the network\'s outputs');
    if (input.columns) {
      const repeated = input.columns.find((c, i) => input.columns!.indexOf(c) !== i);
      if (repeated) throw new InputError(source, `columns lists "${repeated}" twice`);
      spec = { kind: 'tabular', labelColumn: input.labelColumn ?? 'label', classNames: input.classes, columns: input.columns.map((name) => ({ name, type: 'numeric', mean: 0, std: 1 })) };
    } else {
      const shape = input.image!.shape ?? (inputShape as [number, number, number]);
      if (shape.length !== 3) throw new InputError(source, `image input needs a network that takes [height, width, channels]; this one takes [${inputShape.join(', ')}]`);
      spec = { kind: 'image', classNames: input.classes, shape: [shape[0], shape[1], shape[2]], scale: input.image!.scale ?? 1 / 255 };
    }
  }
  if (input.labelColumn && spec.kind === 'tabular' && input.preprocessing) spec = { ...spec, labelColumn: input.labelColumn };
  const repeatedClass = spec.classNames.find((c, i) => spec.classNames.indexOf(c) !== i);
  if (repeatedClass) throw new InputError(source, `class "${repeatedClass}" is listed twice`);
  let shape: number[];
  try {
    shape = featureShapeOf(spec);
  } catch {
    throw new InputError(source, 'preprocessing is malformed');
  }
  if (shape.join('x') !== inputShape.join('x')) {
    throw new InputError(source, `the input it describes has shape [${shape.join(', ')}] but the network takes [${inputShape.join(', ')}]`);
  }
  return spec;
}

/**
 * `net`, a tfjs LayersModel of the team's own, as a Distillery model: its logits (a final
 * softmax taken off), its architecture, the preprocessing `options` describe and metadata.
 * The returned model may share `net`'s layers and weights: keep `net` alive while it is used.
 */
export async function fromLayersModel(net: tfl.LayersModel, options: FromLayersModelOptions): Promise<TrainedModel> {
  const source = options.source ?? 'fromLayersModel';
  const parsed = modelInputSchema.safeParse(pickInput(options));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(source, `${issue.path.join('.') || 'options'}: ${issue.message}`);
  }
  const topology = networkTopology(net, source);
  const inputShape = net.inputs[0].shape.slice(1);
  if (!inputShape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    throw new InputError(source, `takes inputs of shape [${inputShape.map((d) => d ?? '?').join(', ')}]; every dimension but the batch must be fixed`);
  }
  const preprocessing = inputPreprocessing(parsed.data, inputShape as number[], source);
  const logits = logitsTopology(topology, source);
  let model = net;
  if (logits.changed) {
    model = await networkFromTopology(logits.topology, source);
    model.setWeights(net.getWeights());
  }
  const K = outputWidth(model);
  if (K !== preprocessing.classNames.length) {
    if (model !== net) model.dispose();
    throw new InputError(source, `the network outputs ${K} scores but ${preprocessing.classNames.length} classes are named`);
  }
  const recipe = importedRecipe('imported', logits.removed ? { logitsOf: `taken before ${logits.removed}` } : {});
  return {
    model,
    meta: networkMetadata({
      id: options.id,
      engine: null,
      architecture: { kind: 'layers', topology: logits.topology },
      inputShape: inputShape as number[],
      classNames: preprocessing.classNames.slice(),
      preprocessing,
      recipe,
      metrics: { epochsRun: 0, bestEpoch: 0 },
      seed: options.seed ?? 0,
    }),
  };
}

function pickInput(o: FromLayersModelOptions): ModelInput {
  const { seed: _s, id: _i, source: _src, ...input } = o;
  return input;
}
