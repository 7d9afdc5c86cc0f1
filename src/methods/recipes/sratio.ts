import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { sratioWeights } from '../exampleWeights.js';
import { predictLogits } from '../../models/predict.js';
import { softmax } from '../../models/logits.js';
import { crossEntropyObjective } from '../../objectives/targetObjectives.js';

/**
 * SRatio (Dhurandhar et al., ICML 2020): a first pass trains the new model on the labels;
 * each example then weighs p_base(y) / p_first(y), clipped to [0, cap]; the second pass
 * (same initialisation and batch order) trains on the labels with those weights.
 */
export const sratio = defineMethod({
  name: 'sratio',
  description: 'CE(y, z) weighted by clip(p_base(y) / p_first-pass(y), 0, cap)   (Dhurandhar et al. 2020)',
  params: z.object({ cap: z.number().positive().max(1e6).default(5) }).strict(),
  flags: { cap: { flag: '--cap', help: 'largest example weight, > 0' } },
  reference: 'base',
  transferHop: true,
  label: (p) => `sratio cap=${p.cap}`,
  async train(ctx, p) {
    const K = ctx.train.classNames.length;
    const first = await ctx.fit(crossEntropyObjective(), {}, 'sratio first pass');
    const studentProbs = softmax(predictLogits(first.trained.model, ctx.train.features, ctx.train.featureShape), K);
    first.trained.model.dispose();
    const teacherProbs = softmax(ctx.reference!.all(), K);
    const weights = sratioWeights(teacherProbs, studentProbs, ctx.train.labels, K, p.cap);
    const fitted = await ctx.fit(crossEntropyObjective(), {}, 'sratio', weights);
    return { ...fitted, exampleWeights: weights };
  },
});
