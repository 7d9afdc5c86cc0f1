/**
 * Example weights from a teacher, for training a simple model on reweighted data (which
 * works for any student, a network or a decision tree):
 *
 * - ProfWeight (Dhurandhar et al., NeurIPS 2018): a linear probe (softmax regression) is
 *   trained on the activations of each of several intermediate layers of the teacher; the
 *   weight of example i is the mean, over the chosen layers ℓ, of probe ℓ's probability of
 *   its true label, w_i = max(floor, (1/|L|)·Σ_ℓ p_ℓ(y_i | a_ℓ(x_i))).
 * - SRatio (Dhurandhar et al., ICML 2020): w_i = p_teacher(y_i | x_i) / p_student(y_i | x_i)
 *   with the student from a first, unweighted pass, clipped to [0, cap] (our choice of
 *   bounding; a student probability of 0 gives the cap).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import type { TrainedModel } from '../models/types.js';
import { buildModel } from '../models/build.js';
import { layerActivations, probeableLayers } from '../models/probes.js';
import { predictLogits } from '../models/predict.js';
import { softmax } from '../models/logits.js';
import { scoresAccuracy } from '../models/agreement.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import { trainModel } from '../train/trainer.js';
import { InputError } from '../util/errors.js';

/** Layers that only reshape or drop (flatten, dropout) are no probe points: their information equals their input's. */
const PASS_THROUGH = new Set(['Flatten', 'Dropout']);

/** The teacher's layers a ProfWeight probe may read, input to output (the logits layer last). */
export function profWeightLayers(model: tfl.LayersModel): string[] {
  const names = new Set(probeableLayers(model));
  return model.layers.filter((l) => names.has(l.name) && !PASS_THROUGH.has(l.getClassName())).map((l) => l.name);
}

export interface ProfWeightOptions {
  /** Layers to probe, by name; default: the top `top` of profWeightLayers. */
  layers?: string[];
  /** How many of the topmost probe layers to average when `layers` is not given. */
  top: number;
  /** Smallest weight an example gets (in [0, 1]). */
  floor: number;
  /** Passes of each probe's training (Adam, learning rate 0.01, batches of 128). */
  probeEpochs: number;
  seed: number;
}

/** A fitted probe: its layer, its accuracy on the training rows, its softmax-regression parameters. */
export interface ProbeResult {
  layer: string;
  width: number;
  accuracy: number;
  /** [width, K], row-major. */
  kernel: Float32Array;
  bias: Float32Array;
}

/** The probe layers to use: the named ones (each must exist) or the top `top` candidates. */
export function chooseProbeLayers(model: tfl.LayersModel, opts: Pick<ProfWeightOptions, 'layers' | 'top'>): string[] {
  const candidates = profWeightLayers(model);
  if (opts.layers && opts.layers.length > 0) {
    const known = new Set(probeableLayers(model));
    for (const name of opts.layers) {
      if (!known.has(name)) throw new InputError('probe layers', `no layer "${name}" in the teacher (probe layers: ${candidates.join(', ')})`);
    }
    return opts.layers;
  }
  return candidates.slice(-Math.min(opts.top, candidates.length));
}

/** ProfWeight's example weights for the rows of `train`, and the probes behind them. */
export async function profWeightWeights(teacher: TrainedModel, train: Dataset, opts: ProfWeightOptions): Promise<{ weights: Float32Array; probes: ProbeResult[] }> {
  if (!(opts.floor >= 0 && opts.floor <= 1)) throw new InputError('floor', `must be in [0, 1], got ${opts.floor}`);
  const layers = chooseProbeLayers(teacher.model, opts);
  const K = train.classNames.length;
  const n = train.labels.length;
  const activations = layerActivations(teacher.model, layers, train.features, train.featureShape);
  const sum = new Float64Array(n);
  const probes: ProbeResult[] = [];
  for (const { layer, width, values } of activations) {
    const probe = buildModel({ kind: 'mlp', hidden: [] }, [width], K, opts.seed);
    try {
      const probeData: Dataset = { features: values, featureShape: [width], labels: train.labels, classNames: train.classNames, source: `probe ${layer}` };
      await trainModel(probe, probeData, { objective: crossEntropyObjective(), epochs: opts.probeEpochs, batchSize: 128, learningRate: 0.01, seed: opts.seed });
      const probs = softmax(predictLogits(probe, values, [width]), K);
      for (let i = 0; i < n; i++) sum[i] += probs[i * K + train.labels[i]];
      const [kernel, bias] = probe.getLayer('logits').getWeights().map((t) => t.dataSync() as Float32Array);
      probes.push({ layer, width, accuracy: scoresAccuracy(probs, train.labels, K), kernel: kernel.slice(), bias: bias.slice() });
    } finally {
      probe.dispose();
    }
  }
  const weights = Float32Array.from(sum, (s) => Math.max(opts.floor, s / layers.length));
  return { weights, probes };
}

/** SRatio's weights: p_teacher(y_i) / p_student(y_i), clipped to [0, cap] (the cap where the student gives the label 0). */
export function sratioWeights(teacherProbs: Float32Array, studentProbs: Float32Array, labels: Int32Array, numClasses: number, cap: number): Float32Array {
  if (!(Number.isFinite(cap) && cap > 0)) throw new InputError('cap', `must be a positive number, got ${cap}`);
  const n = labels.length;
  if (teacherProbs.length !== n * numClasses || studentProbs.length !== n * numClasses) throw new Error('sratioWeights: probabilities do not match the labels');
  return Float32Array.from(labels, (y, i) => {
    const t = teacherProbs[i * numClasses + y];
    const s = studentProbs[i * numClasses + y];
    return s > 0 ? Math.min(cap, Math.max(0, t / s)) : cap;
  });
}
