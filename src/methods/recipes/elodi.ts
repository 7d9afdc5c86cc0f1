import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { ldiParams, ldiFlags, ldiLabel, ldiTrainingObjective } from '../ldiParams.js';

/**
 * Defaults: α = 0.8 as in the paper, but one-sided with ξ = 1 — the paper's two-sided ξ = 0
 * raised negative flips on this project's models (docs/elodi.md has the search).
 *
 * ELODI (Zhao et al. 2022): LDI toward a homogeneous ensemble of m models of the new
 * architecture trained with different seeds on the new data (its averaged logits, cached):
 * α·LDI(z_new, z̄_ens) + (1−α)·CE(onehot(y), z_new). At inference only the new model runs.
 */
export const elodi = defineMethod({
  name: 'elodi',
  description: 'α·LDI(z, ensemble) + (1−α)·CE(y, z): LDI toward an m-model ensemble, 1× inference   (Zhao et al. 2022)',
  params: z.object(ldiParams({ alpha: 0.8, xi: 1, oneSided: true })).strict(),
  flags: ldiFlags,
  reference: 'ensemble',
  label: (p) => ldiLabel('elodi', p),
  objective: ldiTrainingObjective,
});
