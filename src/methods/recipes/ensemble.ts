import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { averagedModel } from '../../models/ensemble.js';

/**
 * The ensemble itself as the new model: the "paragon" of the ELODI comparison, the mean of
 * the reference ensemble's logits, at m× the inference cost of one model. Nothing is trained
 * beyond the ensemble's members.
 */
export const ensemble = defineMethod({
  name: 'ensemble',
  description: 'the reference ensemble itself (mean logits of m models): the paragon, m× inference cost',
  params: z.object({}).strict(),
  flags: {},
  reference: 'ensemble',
  label: () => 'ensemble (paragon)',
  train: async (ctx) => {
    if (ctx.source?.kind !== 'ensemble') throw new Error('the ensemble method needs an ensemble reference');
    const members = ctx.source.models;
    const first = members[0].meta;
    return {
      trained: {
        model: averagedModel(members),
        meta: { ...first, id: undefined, seed: ctx.seed, recipe: { ...first.recipe, method: 'ensemble', params: {} }, metrics: { epochsRun: 0, bestEpoch: 0 } },
      },
      result: { epochsRun: 0, steps: 0, bestEpoch: 0, stoppedEarly: false, history: [] },
      inferenceCost: members.length,
      members,
    };
  },
});
