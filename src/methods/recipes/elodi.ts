import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { ldiParams, ldiFlags, ldiLabel, ldiTrainingObjective, type LdiDefaults } from '../ldiParams.js';

const ELODI_DEFAULTS: LdiDefaults = { alpha: 0.3, xi: 0, oneSided: false, centred: true, inferencePass: true };

/**
 * Defaults: the paper's two-sided LDI with ξ = 0, but α = 0.3, on logits centred per example
 * and with z_new from a dropout-free pass, chosen on validation data over the paper's α = 0.8
 * on raw training-pass logits (docs/elodi.md has the search and its numbers).
 *
 * ELODI (Zhao et al. 2022): LDI toward a homogeneous ensemble of m models of the new
 * architecture trained with different seeds on the new data (its averaged logits, cached):
 * α·LDI(z_new, z̄_ens) + (1−α)·CE(onehot(y), z_new). At inference only the new model runs.
 */
export const elodi = defineMethod({
  name: 'elodi',
  description: 'α·LDI(z, ensemble) + (1−α)·CE(y, z): LDI toward an m-model ensemble, 1× inference   (Zhao et al. 2022)',
  params: z.object(ldiParams(ELODI_DEFAULTS)).strict(),
  flags: ldiFlags,
  reference: 'ensemble',
  label: (p) => ldiLabel('elodi', p, ELODI_DEFAULTS),
  objective: ldiTrainingObjective,
});
