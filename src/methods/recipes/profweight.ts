import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { profWeightWeights } from '../exampleWeights.js';
import { crossEntropyObjective } from '../../objectives/targetObjectives.js';

/**
 * ProfWeight (Dhurandhar et al., NeurIPS 2018): linear probes on the teacher's top layers;
 * each example weighs the mean probe confidence in its true label (at least `floor`); the
 * new model trains on the labels with those weights.
 */
export const profweight = defineMethod({
  name: 'profweight',
  description: "CE(y, z) weighted by the mean confidence in y of linear probes on the base's top layers   (Dhurandhar et al. 2018)",
  params: z
    .object({
      top: z.number().int().positive().max(64).default(2),
      floor: unitInterval.default(0),
      layers: z.array(z.string().min(1)).min(1).optional(),
      probeEpochs: z.number().int().positive().max(1000).default(30),
    })
    .strict(),
  flags: {
    top: { flag: '--probe-top', help: 'number of topmost teacher layers probed' },
    floor: { flag: '--floor', help: 'smallest example weight, in [0,1]' },
    probeEpochs: { flag: '--probe-epochs', help: 'training passes of each linear probe' },
  },
  reference: 'base',
  transferHop: true,
  label: (p) => `profweight ${p.layers ? `layers=${p.layers.join('+')}` : `top=${p.top}`} floor=${p.floor}`,
  async train(ctx, p) {
    const { weights } = await profWeightWeights(ctx.base, ctx.train, { ...p, seed: ctx.seed });
    const fitted = await ctx.fit(crossEntropyObjective(), {}, 'profweight', weights);
    return { ...fitted, exampleWeights: weights };
  },
});
