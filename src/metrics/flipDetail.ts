/**
 * The example-level view of an update: the flip matrix (old prediction × new prediction)
 * and the list of examples whose prediction changed, with both models' top probabilities,
 * the old margin and the logit distance (for review in the HTML report or a flips file).
 */
import { flipQuantities, type FlipAnalysisInput } from './flipAnalysis.js';
import { checkSameLength } from './flips.js';
import type { CompareInput } from './compare.js';

/** How an example's prediction changed: old right → new wrong, old wrong → new right, or wrong → another wrong. */
export type FlipKind = 'negative' | 'positive' | 'wrong-to-wrong';

/** One example whose top-1 prediction changed. Class fields are class indices. */
export interface FlippedExample {
  /** Row index in the evaluation data (0-based). */
  index: number;
  kind: FlipKind;
  label: number;
  old: number;
  new: number;
  /** Each model's probability of its own top-1 class (null without probabilities). */
  pOld: number | null;
  pNew: number | null;
  /** Old model's top-1 minus top-2 probability. */
  oldMargin: number | null;
  /** ‖centred z_old − centred z_new‖₂ (flipAnalysis.ts). */
  logitL2: number | null;
}

/** counts[a][b]: examples the old model puts in class a and the new one in class b (the diagonal is unchanged). */
export function flipMatrix(predOld: Int32Array, predNew: Int32Array, numClasses: number): number[][] {
  checkSameLength({ predOld, predNew });
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < predOld.length; i++) m[predOld[i]][predNew[i]]++;
  return m;
}

/** What the example-level view reads: a comparison's input without the class names. */
export type FlipDetailInput = Omit<CompareInput, 'classNames'>;

/** The examples whose prediction changed, in data order. */
export function flippedExamples(input: FlipDetailInput): FlippedExample[] {
  const { labels, predOld, predNew, probsOld, probsNew, numClasses: K } = input;
  checkSameLength({ labels, predOld, predNew });
  const q = probsOld && probsNew ? flipQuantities(input as FlipAnalysisInput) : null;
  const out: FlippedExample[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (predOld[i] === predNew[i]) continue;
    const oldRight = predOld[i] === labels[i];
    const newRight = predNew[i] === labels[i];
    out.push({
      index: i,
      kind: oldRight ? 'negative' : newRight ? 'positive' : 'wrong-to-wrong',
      label: labels[i],
      old: predOld[i],
      new: predNew[i],
      pOld: probsOld ? probsOld[i * K + predOld[i]] : null,
      pNew: probsNew ? probsNew[i * K + predNew[i]] : null,
      oldMargin: q ? q.oldMargin[i] : null,
      logitL2: q ? q.logitL2[i] : null,
    });
  }
  return out;
}
