import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { codistillationObjective } from '../../objectives/objectives.js';

/**
 * Codistillation (Anil et al. 2018): CE(onehot(y), z) + w·CE(p̄, z), p̄ the peers' mean
 * probabilities. In an update the peer is the reference source (by default the base model).
 */
export const codistill = defineMethod({
  name: 'codistill',
  description: "CE(y, z) + w·CE(p̄, z), p̄ the peers' mean probabilities   (Anil et al. 2018)",
  params: z.object({ weight: z.number().min(0).max(100).default(1) }).strict(),
  flags: { weight: { flag: '--weight', help: "weight w of the peers' term" } },
  reference: 'base',
  label: (p) => `codistill w=${p.weight}`,
  objective: (p) => codistillationObjective(p.weight),
});
