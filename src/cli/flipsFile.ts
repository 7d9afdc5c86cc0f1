/** `compare --flips`: every flipped example as JSON Lines, for review or labelling. */
import type { ComparisonView } from '../report/html/comparisonHtml.js';
import { fileSignature, type OutputTarget } from '../util/outputs.js';

/** The flips file as an output: Distillery's when its first line is a flip record. */
export function flipsOutput(file: string): OutputTarget {
  return { path: file, type: 'file', what: 'flips file', flag: '--flips', isOurs: fileSignature(/^(\{"flip":"|$)/) };
}

/**
 * One JSON object per flipped example: kind, data row (1-based), classes by name,
 * probabilities, old margin, logit distance, features; with --slice-by its slice of each
 * slicing, with --find-regions the confirmed regions it is in.
 */
export function flipsJsonl(view: ComparisonView): string {
  const name = (k: number) => view.classNames[k];
  return view.flippedExamples
    .map((e) => JSON.stringify({ flip: e.kind, row: e.index + 1, label: name(e.label), old: name(e.old), new: name(e.new), pOld: e.pOld, pNew: e.pNew, oldMargin: e.oldMargin, logitDistance: e.logitL2, features: e.features, ...(e.slices ? { slices: e.slices } : {}), ...(e.regions ? { regions: e.regions } : {}) }) + '\n')
    .join('');
}

