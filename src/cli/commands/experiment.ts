import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { loadExperimentConfig, type UpdateExperimentConfig } from '../../experiments/config.js';
import { runUpdateExperimentParallel } from '../../experiments/parallel.js';
import { renderExperimentText, writeExperimentRun } from '../../report/experimentReport.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger, parseNumberList } from '../options.js';
import { availableParallelism } from 'node:os';

/** The config behind `distillery demo` (and `npm start`). */
export const DEMO_CONFIG_PATH = fileURLToPath(new URL('../../../configs/letter-update.yaml', import.meta.url));

interface ExperimentFlags {
  config?: string;
  out?: string;
  seeds?: number[];
  jobs?: number;
  queue?: string;
  allowVolatileQueue?: boolean;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

async function runAndReport(cfg: UpdateExperimentConfig, flags: ExperimentFlags, globals: GlobalFlags): Promise<void> {
  const ctx = await createContext(globals);
  if (flags.seeds) cfg.seeds = flags.seeds.map((s) => Math.round(s));
  const out = flags.out ?? path.join('runs', `${cfg.name}-${timestamp()}`);
  const jobs = Math.min(flags.jobs ?? availableParallelism(), cfg.seeds.length);
  ctx.log(`${cfg.name}: ${cfg.seeds.length} seed(s) × ${cfg.methods.length} method(s) on ${cfg.data}; engine ${ctx.engine.backend}; ${jobs} trial(s) at a time`);
  // One worker thread per concurrent trial; their progress arrives as log lines.
  const result = await runUpdateExperimentParallel(
    cfg,
    { progress: ctx.progress, log: ctx.log },
    { jobs, progressEvery: globals.verbose ? 10 : 0, ...(flags.queue ? { queue: { url: flags.queue, allowVolatile: flags.allowVolatileQueue } } : {}) },
  );
  await writeExperimentRun(out, result);
  ctx.out(renderExperimentText(result));
  ctx.out(`\nreport: ${path.join(out, 'report.md')} (plot ${path.join(out, 'accuracy-vs-churn.svg')}, data ${path.join(out, 'results.json')})`);
}

function addExperimentOptions(cmd: Command): Command {
  return cmd
    .option('--out <dir>', 'run directory for results.json, report.md, the plot and the resolved config (default runs/<name>-<time>)')
    .option('--seeds <list>', 'override the seeds, e.g. 1,2,3,4,5', parseNumberList('seeds'))
    .option('--jobs <n>', 'trials (seeds) run at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64))
    .option('--queue <url>', 'run the trials as jobs on a Redis queue (redis://[user:pass@]host:port/db) served by `distillery worker --queue` on any machines')
    .option('--allow-volatile-queue', 'accept a Redis without append-only persistence (a restart loses queued jobs)');
}

export function runCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('run')
    .description('run an update experiment from a declarative YAML/JSON config (see docs/experiment-config.md)')
    .requiredOption('--config <file>', 'experiment config (YAML or JSON)');
  addExperimentOptions(cmd);
  return cmd.action(async (flags: ExperimentFlags) => {
    const cfg = await loadExperimentConfig(flags.config!);
    await runAndReport(cfg, flags, globals());
  });
}

export function demoCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('demo').description(
    'the main job: on the embedded UCI letter data, train a base model, then the update with every method (plain, distillation at several λ, anchor, label smoothing) over several seeds; print accuracy and churn (mean ± CI) and write a report',
  );
  addExperimentOptions(cmd);
  cmd.addHelpText('after', `\nThe experiment is configs/letter-update.yaml; copy it and use \`distillery run --config\` to change it.\n`);
  return cmd.action(async (flags: ExperimentFlags) => {
    const cfg = await loadExperimentConfig(DEMO_CONFIG_PATH);
    await runAndReport(cfg, flags, globals());
  });
}
