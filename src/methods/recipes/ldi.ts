import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { ldiParams, ldiFlags, ldiLabel, ldiTrainingObjective } from '../ldiParams.js';

/**
 * Logit Difference Inhibition toward the deployed model (Zhao et al. 2022, one-model LDI):
 * α·LDI(z_new, z_old) + (1−α)·CE(onehot(y), z_new).
 */
export const ldi = defineMethod({
  name: 'ldi',
  description: 'α·LDI(z, base) + (1−α)·CE(y, z): inhibit logit differences to the deployed model   (Zhao et al. 2022)',
  params: z.object(ldiParams({ alpha: 0.5, xi: 0.5, oneSided: false })).strict(),
  flags: ldiFlags,
  reference: 'base',
  label: (p) => ldiLabel('ldi', p),
  objective: ldiTrainingObjective,
});
