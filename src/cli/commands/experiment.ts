import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { EXPERIMENT_KINDS, loadAnyExperimentConfig, loadExperimentConfig, normaliseMethod, parseExperimentConfig, type UpdateExperimentConfig } from '../../experiments/config.js';
import { describeMethod } from '../../methods/registry.js';
import { lazy } from '../../util/lazy.js';
import { runTransferAndReport } from '../transferRun.js';
import { runReproducibilityAndReport } from '../reproducibilityRun.js';
import { runUpdateExperimentParallel } from '../../experiments/parallel.js';
import { renderExperimentText, runOutput, writeExperimentRun } from '../../report/experimentReport.js';
import type { TrialOutcome } from '../../experiments/updateExperiment.js';
import { deserialize, serialize } from 'node:v8';
import { InputError, inConfigFile } from '../../util/errors.js';
import { addOutputOptions, checkOutputs, inputFiles, resumeSettings, runResumable, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger, parseNumberList } from '../options.js';
import { availableParallelism } from 'node:os';
import { addQueueOptions, queueFromFlags, type QueueFlags } from '../queueOptions.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

/** The config behind `distillery demo` (and `npm start`). */
export const DEMO_CONFIG_PATH = fileURLToPath(new URL('../../../configs/letter-update.yaml', import.meta.url));

interface ExperimentFlags extends OutputFlags, QueueFlags {
  config?: string;
  out?: string;
  seeds?: number[];
  jobs?: number;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

async function runAndReport(cfg: UpdateExperimentConfig, flags: ExperimentFlags, globals: GlobalFlags): Promise<void> {
  const ctx = await createContext(globals);
  if (flags.seeds) cfg.seeds = flags.seeds.map((s) => Math.round(s));
  if (flags.resume && !flags.out) throw new InputError('--resume', 'needs --out: the run directory of the interrupted run');
  const out = flags.out ?? path.join('runs', `${cfg.name}-${timestamp()}`);
  await checkOutputs([runOutput(out)], flags);
  const jobs = Math.min(flags.jobs ?? availableParallelism(), cfg.seeds.length);
  ctx.log(`${cfg.name}: ${cfg.seeds.length} seed(s) × ${cfg.methods.length} method(s) on ${cfg.data}; engine ${ctx.engine.backend}; ${jobs} trial(s) at a time`);
  // Resumes at the trial level: each finished trial is kept in the temporary output (trial-<seed>.v8).
  const configFile = flags.config ?? DEMO_CONFIG_PATH;
  // the files it reads: the data the config names. The config itself is compared by what it says
  // (the settings: cfg, with its `model:` file's architecture), so an edited comment is no change.
  const inputs = [...inputFiles(`${configFile}: data`, cfg.data, 'data'), ...inputFiles(`${configFile}: testData`, cfg.testData, 'data')];
  const result = await runResumable({ path: out, flag: '--out', configFile, inputs }, resumeSettings('run', { cfg }), flags, ctx.log, async (partial) => {
    const trialFile = (seed: number) => `trial-${seed}.v8`;
    const finishedTrials: TrialOutcome[] = [];
    for (const seed of cfg.seeds) {
      const bytes = await partial.store(trialFile(seed)).load();
      if (bytes) finishedTrials.push(deserialize(bytes) as TrialOutcome);
    }
    if (finishedTrials.length) ctx.log(`kept ${finishedTrials.length} finished trial(s) (seeds ${finishedTrials.map((t) => t.seed).join(', ')})`);
    // One worker thread per concurrent trial; their progress arrives as log lines.
    const result = await runUpdateExperimentParallel(
      cfg,
      { progress: ctx.progress, log: ctx.log, finishedTrials, onTrialDone: (o) => partial.store(trialFile(o.seed)).save(serialize(o)) },
      { jobs, progressEvery: globals.verbose ? 10 : 0, queue: queueFromFlags(flags) },
    );
    await writeExperimentRun(out, result);
    return result;
  });
  ctx.out(renderExperimentText(result));
  ctx.out(`\nreport: ${path.join(out, 'report.md')} (plot ${path.join(out, 'accuracy-vs-churn.svg')}, data ${path.join(out, 'results.json')})`);
}

function addExperimentOptions(cmd: Command): Command {
  addOutputOptions(cmd, { resumable: true });
  cmd
    .addOption(pathOption('--out <dir>', 'run directory for results.json, report.md, the plot and the resolved config (default runs/<name>-<time>)', PATH_KINDS.outputDir))
    .option('--seeds <list>', 'override the seeds, e.g. 1,2,3,4,5', parseNumberList('seeds'))
    .option('--jobs <n>', 'trials (seeds) run at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64));
  addQueueOptions(cmd, 'run the trials as jobs on a Redis queue (redis://[user:pass@]host:port/db) served by `distillery worker --queue` on any machines');
  return cmd
    .addHelpText('after', '\nA killed or interrupted run keeps its finished trials: run the same command with --resume (and the same --out) to finish it.\n');
}

export function runCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('run')
    .description(`run an experiment (kind ${EXPERIMENT_KINDS.join(', ')}) from a declarative YAML/JSON config (see docs/experiment-config.md)`)
    .addOption(pathOption('--config <file>', 'experiment config (YAML or JSON)', PATH_KINDS.inputFile, { required: true }));
  addExperimentOptions(cmd);
  // errors about the config's values name its keys: reported against the file
  return cmd.action((flags: ExperimentFlags) => inConfigFile(flags.config!, async () => {
    const cfg = await loadAnyExperimentConfig(flags.config!);
    if (cfg.kind === 'transfer') {
      if (flags.queue) throw new InputError('--queue', 'transfer experiments run on this machine only (their trials are not queued yet); drop --queue');
      if (flags.seeds) cfg.seeds = flags.seeds.map((s) => Math.round(s));
      return runTransferAndReport(cfg, flags.out ?? path.join('runs', `${cfg.name}-${timestamp()}`), globals(), flags.jobs);
    }
    if (cfg.kind === 'reproducibility') {
      if (flags.queue) throw new InputError('--queue', 'reproducibility studies run on this machine only; drop --queue');
      return runReproducibilityAndReport(cfg, flags.out, flags, globals(), flags.jobs);
    }
    await runAndReport(cfg, flags, globals());
  }));
}

const yaml = lazy<typeof import('yaml')>('yaml');

/** The demo's methods as its report labels them: configs/letter-update.yaml's entries, named by the method registry. */
export function demoMethodLabels(): string[] {
  const cfg = parseExperimentConfig(yaml().parse(readFileSync(DEMO_CONFIG_PATH, 'utf8')), DEMO_CONFIG_PATH);
  return cfg.methods.map((m) => describeMethod(normaliseMethod(m)));
}

export function demoCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('demo').description(
    'the main job: on the embedded UCI letter data, train a base model, then the update with each method of configs/letter-update.yaml over several seeds; print accuracy and churn (mean ± CI) and write a report',
  );
  addExperimentOptions(cmd);
  // Read when help is shown, so the list is the config's and the registry's, whatever they become.
  cmd.addHelpText('after', () => {
    const labels = demoMethodLabels();
    return `\nThe update methods (${labels.length}, from configs/letter-update.yaml): ${labels.join(', ')}.\nThe experiment is configs/letter-update.yaml; copy it and use \`distillery run --config\` to change it.\n`;
  });
  return cmd.action((flags: ExperimentFlags) => inConfigFile(DEMO_CONFIG_PATH, async () => {
    const cfg = await loadExperimentConfig(DEMO_CONFIG_PATH);
    await runAndReport(cfg, flags, globals());
  }));
}
