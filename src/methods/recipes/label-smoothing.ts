import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { labelSmoothingObjective } from '../../objectives/targetObjectives.js';

/** Label smoothing, a baseline: CE((1−ε)·onehot(y) + ε/K, z). */
export const labelSmoothing = defineMethod({
  name: 'label-smoothing',
  description: '(1−ε)·onehot(y) + ε/K',
  params: z.object({ epsilon: unitInterval.default(0.1) }).strict(),
  flags: { epsilon: { flag: '--smoothing', help: 'ε, the probability mass spread over all classes' } },
  reference: 'none',
  label: (p) => `label smoothing ε=${p.epsilon}`,
  objective: (p) => labelSmoothingObjective(p.epsilon),
});
