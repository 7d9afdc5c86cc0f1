import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { distillationObjective } from '../../objectives/targetObjectives.js';

/** Churn reduction by distillation (Jiang et al. 2022): target λ·σ(z_old) + (1−λ)·onehot(y), no temperature. */
export const distill = defineMethod({
  name: 'distill',
  description: 'target λ·softmax(base) + (1−λ)·onehot(y)   (Jiang et al. 2022)',
  params: z.object({ lambda: unitInterval.default(0.5) }).strict(),
  flags: { lambda: { flag: '--lambda', help: "weight of the base model's soft labels in [0,1]" } },
  reference: 'base',
  transferHop: true,
  label: (p) => `distill λ=${p.lambda}`,
  objective: (p) => distillationObjective(p.lambda),
});
