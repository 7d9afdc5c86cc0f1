import { z } from 'zod';
import { unitInterval, type MethodFlag } from './definition.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import { fusedLdiCrossEntropy, ldiObjective, type LdiOptions } from '../objectives/logitDifferenceInhibition.js';
import { weightedSum, type CompositeObjective } from '../objectives/weightedSum.js';

/** What LDI and ELODI set differently: the defaults of the shared parameters (and the reference). */
export interface LdiDefaults {
  alpha: number;
  xi: number;
  oneSided: boolean;
  centred: boolean;
  inferencePass: boolean;
}

/** The parameters LDI and ELODI share. */
export function ldiParams(defaults: LdiDefaults) {
  return {
    alpha: unitInterval.default(defaults.alpha),
    xi: z.number().min(0).max(1e6).default(defaults.xi),
    power: z.number().positive().max(16).default(2),
    topK: z.number().int().min(0).default(0),
    oneSided: z.boolean().default(defaults.oneSided),
    relativeMargin: z.boolean().default(false),
    centred: z.boolean().default(defaults.centred),
    inferencePass: z.boolean().default(defaults.inferencePass),
  };
}

/** LDI's options and α, the weight of LDI against the cross entropy. */
export type LdiMethodParams = LdiOptions & { alpha: number };

export const ldiFlags: Record<keyof LdiMethodParams, MethodFlag> = {
  alpha: { flag: '--alpha', help: 'weight α of LDI against (1−α) cross entropy, in [0, 1]' },
  xi: { flag: '--xi', help: 'dead zone ξ ≥ 0: logit differences up to ξ cost nothing' },
  power: { flag: '--power', help: 'exponent p > 0 of each class\'s logit difference' },
  topK: { flag: '--top-k', help: 'penalise only the k largest new logits of each example (true class excluded); 0 = every class but the true one' },
  oneSided: { flag: '--one-sided', help: 'penalise only new logits ABOVE the reference (z_new − z_ref > ξ)', value: 'boolean' },
  relativeMargin: { flag: '--relative-margin', help: 'the dead zone is ξ·|max reference logit| per example', value: 'boolean' },
  centred: { flag: '--centred', help: 'compare logits centred per example (each minus its mean over classes)', value: 'boolean' },
  inferencePass: { flag: '--inference-pass', help: 'take the new logits from a second forward pass with dropout off', value: 'boolean' },
};

/** `name α=… ξ=…` and whatever else differs from the method's defaults. */
export function ldiLabel(name: string, p: LdiMethodParams, d: LdiDefaults): string {
  const differs = (k: 'oneSided' | 'centred' | 'inferencePass', on: string, off: string) => (p[k] === d[k] ? '' : p[k] ? on : off);
  const extra = [
    p.power !== 2 ? `p=${p.power}` : '',
    p.topK ? `top-${p.topK}` : '',
    differs('oneSided', 'one-sided', 'two-sided'),
    p.relativeMargin ? 'relative ξ' : '',
    differs('centred', 'centred', 'raw logits'),
    differs('inferencePass', 'inference pass', 'training pass'),
  ].filter(Boolean);
  return `${name} α=${p.alpha} ξ=${p.xi}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** α·LDI + (1−α)·CE as one objective (one fused op on the native engine, the weighted terms elsewhere). */
export function ldiTrainingObjective({ alpha, ...options }: LdiMethodParams): CompositeObjective {
  const terms = weightedSum([
    [1 - alpha, crossEntropyObjective()],
    [alpha, ldiObjective(options)],
  ]);
  return {
    ...terms,
    name: 'ldi+cross-entropy',
    params: { ...terms.params },
    perExampleLoss: (ctx) => fusedLdiCrossEntropy(ctx, options, alpha) ?? terms.perExampleLoss(ctx),
  };
}
