import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadReproducibilityConfig, parseReproducibilityConfig, type ReproducibilityResult } from '../../experiments/reproducibility.js';
import { runReproducibility } from '../../experiments/reproducibilityStudy.js';
import { metadataFileSignature, writeOutputs, type OutputTarget } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import type { MeanCI } from '../../metrics/bootstrap.js';

const RESULT_JSON = 'reproducibility.json';

/** The output directory (reproducibility.json): Distillery's when the file says so. */
function reproducibilityOutput(dir: string): OutputTarget {
  return { path: dir, type: 'dir', what: 'reproducibility directory', flag: '--out', isOurs: metadataFileSignature(RESULT_JSON, /^\{\s*"format": "distillery-reproducibility"/) };
}

interface Flags extends OutputFlags {
  config?: string;
  runs?: number;
  jobs?: number;
  out?: string;
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

export function reproducibilityCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('reproducibility')
    .description('train a recipe k times with different seeds (plain, codistilled, ensemble of two) and report churn and prediction difference between the retrains, with intervals')
    .option('--config <file>', 'recipe as YAML (data, testSize, trainSize, model, training, codistill, recipes, runs; see docs/codistillation.md)')
    .option('--runs <k>', 'retrains per recipe, paired 0–1, 2–3, … (default 10)', parseInteger('runs', 2, 200))
    .option('--jobs <n>', 'retrains run at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64))
    .option('--out <dir>', 'directory for reproducibility.json (default runs/<name>-<time>)');
  addOutputOptions(cmd, { resumable: false });
  return cmd.action(async (flags: Flags) => {
      const ctx = await createContext(globals());
      const cfg = flags.config ? await loadReproducibilityConfig(flags.config) : parseReproducibilityConfig({});
      if (flags.runs) cfg.runs = flags.runs;
      const out = flags.out ?? path.join('runs', `${cfg.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
      await checkOutputs([reproducibilityOutput(out)], flags);
      const result = await runReproducibility(cfg, { log: ctx.log, jobs: flags.jobs });
      await writeOutputs([{ path: out, fill: (dir) => fs.writeFile(path.join(dir, RESULT_JSON), `${JSON.stringify(result, null, 2)}\n`) }]);
      ctx.out(renderReproducibility(result));
      ctx.out(`results: ${path.join(out, RESULT_JSON)}`);
    });
}
