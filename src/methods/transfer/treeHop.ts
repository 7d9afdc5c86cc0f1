/**
 * One hop into a decision-tree student. A tree has no logits to distil into, so each
 * one-hop method becomes what it means for weighted, soft-labelled data (tree.ts):
 *   plain       one-hot labels;
 *   distill λ   targets λ·σ(z_t) + (1−λ)·onehot(y)  (soft-target modification);
 *   kd α, T     targets α·σ(z_t/T) + (1−α)·onehot(y)  (KD's two terms as one target mixture);
 *   profweight  one-hot labels, ProfWeight's example weights from the hop's teacher;
 *   sratio      one-hot labels, weights p_t(y)/p_tree(y) clipped to [0, cap], the tree's from a first unweighted fit.
 */
import type { Dataset } from '../../data/types.js';
import type { TrainedModel } from '../../models/types.js';
import type { TrainedTree } from '../../models/classifier.js';
import { softmax } from '../../models/logits.js';
import { fitTree, leafCount, oneHotTargets, treeProbabilities, type TreeConfig } from '../../models/tree.js';
import type { CachedReference } from '../../train/reference.js';
import { profWeightWeights, sratioWeights } from '../exampleWeights.js';
import { methodParams, type UpdateMethodSpec } from '../registry.js';
import { modelMetadata } from '../../models/metadata.js';

function mixTargets(labels: Int32Array, teacherLogits: Float32Array, K: number, share: number, temperature = 1): Float32Array {
  const scaled = temperature === 1 ? teacherLogits : teacherLogits.map((z) => z / temperature);
  const soft = softmax(scaled, K);
  const t = oneHotTargets(labels, K);
  for (let i = 0; i < t.length; i++) t[i] = share * soft[i] + (1 - share) * t[i];
  return t;
}

export interface TreeHopRequest {
  teacher: TrainedModel;
  /** The teacher's logits on the training rows (computed once per hop teacher). */
  reference: CachedReference;
  config: TreeConfig;
  method: UpdateMethodSpec;
  train: Dataset;
  validation: Dataset;
  seed: number;
}

/** Grows the tree student of one hop with the hop's method. */
export async function trainTreeHop(req: TreeHopRequest): Promise<TrainedTree> {
  const { train, config, method: spec } = req;
  const K = train.classNames.length;
  const d = train.features.length / train.labels.length;
  const input = { features: train.features, numFeatures: d, numClasses: K };
  const hard = oneHotTargets(train.labels, K);
  let targets = hard;
  let weights: Float32Array | undefined;
  switch (spec.method) {
    case 'distill':
      targets = mixTargets(train.labels, req.reference.all(), K, spec.lambda);
      break;
    case 'kd':
      targets = mixTargets(train.labels, req.reference.all(), K, spec.alpha, spec.temperature);
      break;
    case 'profweight':
      weights = (await profWeightWeights(req.teacher, train, { ...spec, seed: req.seed })).weights;
      break;
    case 'sratio': {
      const first = fitTree({ ...input, targets: hard }, config);
      weights = sratioWeights(softmax(req.reference.all(), K), treeProbabilities(first, train.features), train.labels, K, spec.cap);
      break;
    }
    case 'plain':
      break;
    default:
      throw new Error(`method ${spec.method} does not apply to a tree student`);
  }
  const tree = fitTree({ ...input, targets, weights }, config);
  return {
    tree,
    meta: modelMetadata<TrainedTree['meta']>({
      engine: null,
      architecture: config,
      inputShape: train.featureShape.slice(),
      classNames: train.classNames.slice(),
      preprocessing: req.teacher.meta.preprocessing,
      recipe: {
        method: spec.method,
        params: methodParams(spec) as TrainedTree['meta']['recipe']['params'],
        reference: { kind: 'base', modelIds: [req.teacher.meta.id ?? `seed:${req.teacher.meta.seed}`] },
        trainExamples: train.labels.length,
        validationExamples: req.validation.labels.length,
        exampleWeights: weights !== undefined,
        softTargets: targets !== hard,
      },
      metrics: { leaves: leafCount(tree) },
      seed: req.seed,
    }),
  };
}
