import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { anchorObjective } from '../../objectives/targetObjectives.js';

/** Anchor / RCP (Milani Fard et al. 2016): α·σ(z_old) + (1−α)·onehot(y) where the base is right, ε·onehot(y) elsewhere. */
export const anchor = defineMethod({
  name: 'anchor',
  description: 'α·softmax(base) + (1−α)·onehot(y) where base is right, ε·onehot(y) elsewhere (RCP)',
  params: z.object({ alpha: unitInterval.default(0.5), epsilon: unitInterval.default(0.5) }).strict(),
  flags: {
    alpha: { flag: '--alpha', help: "weight of the base model's probabilities where it is right" },
    epsilon: { flag: '--epsilon', help: 'weight of the true label where the base model is wrong' },
  },
  reference: 'base',
  label: (p) => `anchor α=${p.alpha} ε=${p.epsilon}`,
  objective: (p) => anchorObjective(p.alpha, p.epsilon),
});
