import { z } from 'zod';
import type { MethodFlag } from './definition.js';
import { unitInterval } from './params.js';
import { crossEntropyObjective } from '../objectives/objectives.js';
import { ldiObjective } from '../objectives/logitDifferenceInhibition.js';
import { weightedSum, type CompositeObjective } from '../objectives/weightedSum.js';

/** The parameters LDI and ELODI share; the two differ in their defaults of α and ξ (and in the reference). */
export function ldiParams(defaults: { alpha: number; xi: number; oneSided: boolean }) {
  return {
    alpha: unitInterval.default(defaults.alpha),
    xi: z.number().min(0).max(1e6).default(defaults.xi),
    power: z.number().positive().max(16).default(2),
    topK: z.number().int().min(0).default(0),
    oneSided: z.boolean().default(defaults.oneSided),
    relativeMargin: z.boolean().default(false),
  };
}

export interface LdiMethodParams {
  alpha: number;
  xi: number;
  power: number;
  topK: number;
  oneSided: boolean;
  relativeMargin: boolean;
}

export const ldiFlags: Record<keyof LdiMethodParams, MethodFlag> = {
  alpha: { flag: '--alpha', help: 'weight α of LDI against (1−α) cross entropy, in [0, 1]' },
  xi: { flag: '--xi', help: 'dead zone ξ ≥ 0: logit differences up to ξ cost nothing' },
  power: { flag: '--power', help: 'exponent p > 0 of each class\'s logit difference' },
  topK: { flag: '--top-k', help: 'penalise only the k largest new logits of each example (true class excluded); 0 = every class but the true one' },
  oneSided: { flag: '--one-sided', help: 'penalise only new logits ABOVE the reference (z_new − z_ref > ξ)', value: 'boolean' },
  relativeMargin: { flag: '--relative-margin', help: 'the dead zone is ξ·|max reference logit| per example', value: 'boolean' },
};

export function ldiLabel(name: string, p: LdiMethodParams): string {
  const extra = [p.power !== 2 ? `p=${p.power}` : '', p.topK ? `top-${p.topK}` : '', p.oneSided ? 'one-sided' : '', p.relativeMargin ? 'relative ξ' : ''].filter(Boolean);
  return `${name} α=${p.alpha} ξ=${p.xi}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** α·LDI + (1−α)·CE as one objective. */
export function ldiTrainingObjective(p: LdiMethodParams): CompositeObjective {
  const terms = weightedSum([
    [1 - p.alpha, crossEntropyObjective()],
    [p.alpha, ldiObjective({ xi: p.xi, power: p.power, topK: p.topK, oneSided: p.oneSided, relativeMargin: p.relativeMargin })],
  ]);
  return { ...terms, name: 'ldi+cross-entropy', params: { ...terms.params } };
}
