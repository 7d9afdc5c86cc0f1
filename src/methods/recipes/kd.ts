import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { knowledgeDistillationObjective } from '../../objectives/targetObjectives.js';

/** Knowledge distillation (Hinton et al. 2015): (1−α)·CE(onehot(y), z) + α·T²·KL(σ(z_t/T) ‖ σ(z/T)). */
export const kd = defineMethod({
  name: 'kd',
  description: '(1−α)·CE(y, z) + α·T²·KL(softmax(base/T) ‖ softmax(z/T))   (Hinton et al. 2015)',
  params: z.object({ alpha: unitInterval.default(0.5), temperature: z.number().positive().max(1000).default(4) }).strict(),
  flags: {
    alpha: { flag: '--alpha', help: 'weight of the tempered KL term' },
    temperature: { flag: '--temperature', help: 'softmax temperature T > 0' },
  },
  reference: 'base',
  transferHop: true,
  label: (p) => `kd α=${p.alpha} T=${p.temperature}`,
  objective: (p) => knowledgeDistillationObjective(p.alpha, p.temperature),
});
