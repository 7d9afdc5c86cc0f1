import type { Objective } from './types.js';
import type { CompositeObjective, WeightedTerm } from './weightedSum.js';

/**
 * Two objectives in sequence: `first` while `inFirstPhase()` says so, `second` after (e.g.
 * codistillation's burn-in: the task loss alone for the first B steps, then the distillation
 * objective). `needsReference` follows the phase, so the trainer asks for reference logits
 * (e.g. from peers not yet published) only while the objective in force reads them.
 */
export function phasedObjective(first: Objective, second: Objective, inFirstPhase: () => boolean): Objective {
  return {
    name: `${first.name}→${second.name}`,
    params: { ...first.params, ...second.params },
    get needsReference() {
      return inFirstPhase() ? first.needsReference : second.needsReference;
    },
    perExampleLoss: (ctx) => (inFirstPhase() ? first.perExampleLoss(ctx) : second.perExampleLoss(ctx)),
    /** The terms of the objective in force (itself, when it is not composite). */
    get terms(): readonly WeightedTerm[] {
      const current = inFirstPhase() ? first : second;
      return (current as Partial<CompositeObjective>).terms ?? [[1, current]];
    },
  } as Objective;
}
