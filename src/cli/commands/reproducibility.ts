import { Command } from 'commander';
import { loadReproducibilityConfig, parseReproducibilityConfig } from '../../experiments/reproducibility.js';
import { addOutputOptions, type OutputFlags } from '../outputOptions.js';
import type { GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import { inConfigFile } from '../../util/errors.js';
import { reproducibilityOutput, runReproducibilityAndReport } from '../reproducibilityRun.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

interface Flags extends OutputFlags {
  config?: string;
  runs?: number;
  jobs?: number;
  out?: string;
}

export function reproducibilityCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('reproducibility')
    .description('train a recipe k times with different seeds (plain, codistilled, ensemble of two) and report churn and prediction difference between the retrains, with intervals')
    .addOption(pathOption('--config <file>', 'recipe as YAML (data, testSize, trainSize, model, training, codistill, recipes, runs; see docs/codistillation.md)', PATH_KINDS.inputFile))
    .option('--runs <k>', 'retrains per recipe, paired 0–1, 2–3, … (default 10)', parseInteger('runs', 2, 200))
    .option('--jobs <n>', 'retrains run at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64))
    .addOption(pathOption('--out <dir>', 'directory for reproducibility.json (default runs/<name>-<time>)', PATH_KINDS.outputDir, { output: reproducibilityOutput }));
  addOutputOptions(cmd, { resumable: false });
  return cmd.action(async (flags: Flags) => {
      const cfg = flags.config ? await loadReproducibilityConfig(flags.config) : parseReproducibilityConfig({});
      if (flags.runs) cfg.runs = flags.runs;
      // errors about the config's values name its keys: reported against the file (or, with none, as the keys of the defaults)
      await (flags.config ? inConfigFile(flags.config, () => runReproducibilityAndReport(cfg, flags.out, flags, globals(), flags.jobs)) : runReproducibilityAndReport(cfg, flags.out, flags, globals(), flags.jobs));
    });
}
