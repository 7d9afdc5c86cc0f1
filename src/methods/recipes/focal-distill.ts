import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { FOCAL_DIVERGENCES, FOCAL_FILTERS, focalDistillationObjective } from '../../objectives/focalDistillation.js';

/**
 * Defaults: the paper's α = 1, β = 5 with the logit-MSE divergence at λ = 0.1, on centred
 * logits from a dropout-free pass (the same treatment as LDI's), chosen over FD-KL at the
 * paper's T = 100, λ = 1 and over raw FD-LM (docs/elodi.md has the search and its numbers).
 *
 * Focal distillation (positive-congruent training, Yan et al. CVPR 2021), the ELODI paper's
 * baseline: CE(y, z) + λ·(α + β·1[focus(x)])·D(z_old, z), focus = the old model was right.
 */
export const focalDistill = defineMethod({
  name: 'focal-distill',
  description: 'CE(y, z) + λ·(α + β·1[base right])·D(base, z), D = T²·KL or logit MSE   (Yan et al. 2021)',
  params: z
    .object({
      lambda: z.number().min(0).max(1e4).default(0.1),
      alpha: z.number().min(0).max(1e4).default(1),
      beta: z.number().min(0).max(1e4).default(5),
      temperature: z.number().positive().max(1e4).default(100),
      divergence: z.enum(FOCAL_DIVERGENCES).default('lm'),
      filter: z.enum(FOCAL_FILTERS).default('old-correct'),
      centred: z.boolean().default(true),
      inferencePass: z.boolean().default(true),
    })
    .strict(),
  flags: {
    lambda: { flag: '--lambda', help: 'weight λ of the focal distillation term' },
    alpha: { flag: '--alpha', help: 'weight α of D on every example' },
    beta: { flag: '--beta', help: 'extra weight β of D on the focused examples (0 = plain distillation)' },
    temperature: { flag: '--temperature', help: 'T of the KL divergence' },
    divergence: { flag: '--divergence', help: 'D: kl = T²·KL(σ(base/T) ‖ σ(z/T)), lm = mean squared logit difference', value: 'choice', choices: FOCAL_DIVERGENCES },
    centred: { flag: '--centred', help: 'compare logits centred per example (each minus its mean over classes; changes lm only)', value: 'boolean' },
    inferencePass: { flag: '--inference-pass', help: 'compute D on a second forward pass with dropout off', value: 'boolean' },
    filter: { flag: '--focus', help: 'examples weighted α+β: old-correct, all, negative-flip, new-incorrect', value: 'choice', choices: FOCAL_FILTERS },
  },
  reference: 'base',
  label: (p) => `focal-distill ${p.divergence.toUpperCase()} λ=${p.lambda} α=${p.alpha} β=${p.beta}${p.divergence === 'kl' ? ` T=${p.temperature}` : ''}${p.filter !== 'old-correct' ? ` ${p.filter}` : ''}${p.centred ? '' : ' raw logits'}${p.inferencePass ? '' : ' training pass'}`,
  objective: (p) => focalDistillationObjective(p),
});
