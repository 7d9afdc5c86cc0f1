/** A reproducibility study run and written to its directory (reproducibility.json): `distillery reproducibility` and `distillery run` with `kind: reproducibility`. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ReproducibilityConfig, ReproducibilityResult } from '../experiments/reproducibility.js';
import { runReproducibility } from '../experiments/reproducibilityStudy.js';
import { metadataFileSignature, writeOutputs, type OutputTarget } from '../util/outputs.js';
import type { MeanCI } from '../metrics/bootstrap.js';
import { checkOutputs, type OutputFlags } from './outputOptions.js';
import { createContext, type GlobalFlags } from './context.js';

const RESULT_JSON = 'reproducibility.json';

/** The output directory (reproducibility.json): Distillery's when the file says so. */
export function reproducibilityOutput(dir: string, flag = '--out'): OutputTarget {
  return { path: dir, type: 'dir', what: 'reproducibility directory', flag, isOurs: metadataFileSignature(RESULT_JSON, /^\{\s*"format": "distillery-reproducibility"/) };
}


const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);
const ci = (m: MeanCI, f: (x: number | null) => string) => `${f(m.mean)} [${f(m.low)}, ${f(m.high)}]`;
const ratio = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);

export function renderReproducibility(r: ReproducibilityResult): string {
  const level = Math.round((r.recipes[0]?.churn.level ?? 0.95) * 100);
  const lines = [
    `${r.config.name}: ${r.config.runs} retrains per recipe (${Math.floor(r.config.runs / 2)} seed pairs) on ${r.trainRows} training rows of ${r.config.data}, test ${r.testRows} rows; ${r.config.training.steps} steps; ${r.seconds.toFixed(0)} s`,
    `mean over pairs [${level}% t-interval]:`,
    ...r.recipes.map(
      (s) =>
        `  ${s.recipe.padEnd(10)} churn ${ci(s.churn, pct)}  PD ${ci(s.predictionDifference, pct)}  accuracy ${pct(s.accuracy.mean)}` +
        (s.churnRatioToPlain ? `  churn/plain ${ci(s.churnRatioToPlain, ratio)}  PD/plain ${ci(s.pdRatioToPlain!, ratio)}` : ''),
    ),
  ];
  return lines.join('\n');
}

/** Runs the study of `cfg` and writes `out` (default runs/<name>-<time>), refusing an --out that is not Distillery's. */
export async function runReproducibilityAndReport(cfg: ReproducibilityConfig, out: string | undefined, flags: OutputFlags, globals: GlobalFlags, jobs?: number): Promise<void> {
  const ctx = await createContext(globals);
  const dir = out ?? path.join('runs', `${cfg.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  await checkOutputs([reproducibilityOutput(dir)], flags);
  const result = await runReproducibility(cfg, { log: ctx.log, jobs });
  await writeOutputs([{ path: dir, fill: (d) => fs.writeFile(path.join(d, RESULT_JSON), `${JSON.stringify(result, null, 2)}\n`) }]);
  ctx.out(renderReproducibility(result));
  ctx.out(`results: ${path.join(dir, RESULT_JSON)}`);
}
