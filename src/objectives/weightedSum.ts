import * as tf from '@tensorflow/tfjs-core';
import type { BatchContext, Objective } from './types.js';

/** One term of a composite objective: its weight and the objective it weighs. */
export type WeightedTerm = readonly [weight: number, term: Objective];

/** An objective that is a weighted sum of named terms; `terms` says what it is made of. */
export interface CompositeObjective extends Objective {
  readonly terms: readonly WeightedTerm[];
}

/**
 * `Σ_j w_j · loss_j` per example, e.g. `weightedSum([[1, crossEntropyObjective()], [α, ldi(…)]])`.
 * Terms with weight 0 are skipped (they need no reference); a weight of 1 multiplies nothing.
 * Parameters are recorded as `<term>.weight` and `<term>.<param>`, so term names must differ.
 */
export function weightedSum(terms: readonly WeightedTerm[], name = terms.map(([, t]) => t.name).join('+')): CompositeObjective {
  if (terms.length === 0) throw new Error('weightedSum needs at least one term');
  const names = terms.map(([, t]) => t.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new Error(`weightedSum: two terms are named "${repeated}"`);
  for (const [w, t] of terms) if (!Number.isFinite(w)) throw new Error(`weightedSum: weight of "${t.name}" is ${w}`);
  const active = terms.filter(([w]) => w !== 0);
  const params: Objective['params'] = {};
  for (const [w, t] of terms) {
    params[`${t.name}.weight`] = w;
    for (const [k, v] of Object.entries(t.params)) params[`${t.name}.${k}`] = v;
  }
  return {
    name,
    params,
    terms,
    needsReference: active.some(([, t]) => t.needsReference),
    needsInferenceLogits: active.some(([, t]) => t.needsInferenceLogits === true),
    perExampleLoss: (ctx: BatchContext) =>
      tf.tidy(() => {
        let sum: tf.Tensor1D | undefined;
        for (const [w, t] of active) {
          const loss = t.perExampleLoss(ctx);
          const weighted = w === 1 ? loss : (tf.mul(loss, w) as tf.Tensor1D);
          sum = sum ? (tf.add(sum, weighted) as tf.Tensor1D) : weighted;
        }
        // every weight 0: the loss is 0 (a constant), still one value per example
        return sum ?? (tf.zeros([ctx.logits.shape[0]]) as tf.Tensor1D);
      }),
  };
}
