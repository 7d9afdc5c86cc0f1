import { Command, Option } from 'commander';
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import { CODISTILL_PARAMS, parseParamFlag, resolveCodistillConfig, type CodistillParam } from '../../codistill/config.js';
import { STORE_ENV, type LauncherEvent } from '../../codistill/launcher.js';
import { openStore } from '../../codistill/openStore.js';
import { codistillRunOutput, RUN_JSON } from '../../codistill/results.js';
import { newRunId, runCodistillation } from '../../codistill/run.js';
import { redactUrl } from '../../codistill/store.js';
import { runCodistillWorker } from '../../codistill/worker.js';
import { prepareRunData } from '../../codistill/data.js';
import { formatRate } from '../../report/table.js';
import { distilled, renderCodistillReport } from '../../report/codistillReport.js';
import { renderCodistillHtml } from '../../report/html/codistillHtml.js';
import { HTML_REPORT_FILE } from '../../report/html/page.js';
import { InputError, withParamNames } from '../../util/errors.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addOutputOptions, checkOutputs, inputFiles, resumeSettings, runResumable, type OutputFlags } from '../outputOptions.js';
import { loadDataFlag } from '../dataInput.js';
import { architectureFromFlags, type ModelFlags } from '../modelOptions.js';
import { optionKey, parseInteger, parseNumberList } from '../options.js';
import { commandInputs, PATH_KINDS, pathOption } from '../pathOptions.js';

type ParamFlags = Partial<Record<CodistillParam, number>>;

interface CodistillFlags extends ModelFlags, OutputFlags {
  data?: string;
  label?: string;
  config?: string;
  out: string;
  store?: string;
  run?: string;
  externalWorkers?: number;
  lockstep?: boolean;
}

/** The run parameters given as flags, by parameter name (commander keys flags by their own name, e.g. --lr → lr). */
function paramsFromFlags(flags: Record<string, unknown>): ParamFlags {
  const given: ParamFlags = {};
  for (const [name, p] of Object.entries(CODISTILL_PARAMS)) {
    const v = flags[optionKey(p.flag)];
    if (typeof v === 'number') given[name as CodistillParam] = v;
  }
  return given;
}

/** A run parameter's config key as the user gave it: its flag, else its key in --config, else (a default) its flag. */
function runKeyAsGiven(flags: CodistillFlags): (key: string) => string | undefined {
  const given = paramsFromFlags(flags as unknown as Record<string, unknown>);
  return (key) => {
    if (!(key in CODISTILL_PARAMS)) return undefined;
    const flag = CODISTILL_PARAMS[key as CodistillParam].flag;
    return key in given || !flags.config ? flag : `${flags.config}: ${key}`;
  };
}

function addParamOptions(cmd: Command): Command {
  for (const [name, p] of Object.entries(CODISTILL_PARAMS)) {
    cmd.option(`${p.flag} <x>`, `${p.help} (default ${p.default})`, parseParamFlag(name as CodistillParam));
  }
  return cmd;
}

/** The store URL from --store or the environment (where a launcher puts it, out of process listings). */
function storeUrlFrom(flag: string | undefined, fallback?: string): string {
  const url = flag ?? process.env[STORE_ENV] ?? fallback;
  if (!url) throw new InputError('--store', `no store given (--store redis://… or a directory, or ${STORE_ENV})`);
  return url;
}

/** Per-worker bars on a terminal, one log line per publication otherwise. */
function workerDisplay(log: (line: string) => void, quiet: boolean): { onEvent: (e: LauncherEvent) => void; stop: () => void } {
  if (quiet) return { onEvent: () => {}, stop: () => {} };
  if (process.stderr.isTTY) {
    const multi = new cliProgress.MultiBar({ format: 'worker {worker} [{bar}] {value}/{total} steps val_acc={acc} peers={peers}', hideCursor: true, clearOnComplete: false, stream: process.stderr }, cliProgress.Presets.shades_classic);
    const bars = new Map<number, cliProgress.SingleBar>();
    return {
      onEvent: (e) => {
        if (e.type === 'progress') {
          const p = e.progress;
          let bar = bars.get(p.worker);
          if (!bar) bars.set(p.worker, (bar = multi.create(p.steps, 0, { worker: p.worker, acc: '-', peers: '-' })));
          bar.update(p.step, { worker: p.worker, acc: formatRate(p.valAccuracy), peers: p.peers.join(',') || '-' });
        } else if (e.type === 'exited' && e.code !== 0) multi.log(`worker ${e.worker} exited (${e.signal ?? e.code})${e.restarting ? '; restarting it' : ''}\n`);
        else if (e.type === 'log' && !e.line.startsWith('{')) multi.log(`[worker ${e.worker}] ${e.line}\n`);
      },
      stop: () => multi.stop(),
    };
  }
  return {
    onEvent: (e) => {
      if (e.type === 'started') log(`worker ${e.worker} started (pid ${e.pid}, attempt ${e.attempt})`);
      else if (e.type === 'progress') {
        const p = e.progress;
        log(`worker ${p.worker}: step ${p.step}/${p.steps} loss=${p.loss.toFixed(4)} val_acc=${formatRate(p.valAccuracy)} peers=${p.peers.join(',') || '-'}`);
      } else if (e.type === 'exited') log(`worker ${e.worker} exited (${e.signal ?? `code ${e.code}`})${e.restarting ? '; restarting it from its last checkpoint' : ''}`);
      else log(`[worker ${e.worker}] ${e.line}`);
    },
    stop: () => {},
  };
}

export function codistillCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('codistill')
    .description('codistillation (Anil et al. 2018): n copies of one model, each a worker process on its own shard, distilling from the peers\' published checkpoints; writes each worker\'s model, the deliverable (best on validation), the ensemble\'s accuracy and time-to-accuracy curves')
    .addOption(pathOption('--data <file|name>', 'training data: a CSV, Parquet or Arrow/Feather file, JSONL, or a built-in dataset (letter, fashion-mnist)', PATH_KINDS.data))
    .option('--label <column>', 'label column of a CSV')
    .addOption(pathOption('--config <file>', 'the run as YAML (fields: data, labelColumn, model and the flags below in camelCase); flags override it', PATH_KINDS.inputFile))
    .addOption(pathOption('--out <dir>', `run directory: worker-<i>/, deliverable/, ${RUN_JSON}`, PATH_KINDS.outputDir, { required: true, output: codistillRunOutput }))
    .addOption(pathOption('--store <url>', 'checkpoint store: a directory (default: inside the temporary output .<out>.partial/, removed when the run is done) or redis://[user:pass@]host:port/db, rediss://… for TLS', PATH_KINDS.store))
    .option('--run <id>', 'run ID (default: generated)')
    .option('--lockstep', "at each reload wait for the peers' checkpoints of the same round: a run is a function of its seeds, faults or not (default: newest checkpoints, asynchronous as in the paper)")
    .option('--external-workers <seconds>', 'start no workers here: describe the run in the store, then wait up to this long for workers started elsewhere with codistill-worker', parseInteger('external-workers', 1))
    .addOption(new Option('--model <kind>', 'architecture family').choices(['mlp', 'cnn', 'transformer']))
    .option('--hidden <widths>', 'hidden layer widths, comma-separated', parseNumberList('hidden', 1))
    .addOption(pathOption('--model-config <file>', 'full architecture as YAML/JSON', PATH_KINDS.inputFile));
  addParamOptions(cmd);
  addOutputOptions(cmd, { resumable: true });
  cmd.addHelpText('after', '\nA killed launcher is continued with the same command and --resume: each worker resumes from its last checkpoint.\n\nExample:\n  distillery codistill --data letter --workers 2 --steps 2000 --out runs/codistill\n  distillery codistill --data letter --store redis://127.0.0.1:6379/0 --out runs/codistill\n');
  return cmd.action((flags: CodistillFlags) => withParamNames('config', runKeyAsGiven(flags), 'user', async () => {
    const g = globals();
    const ctx = await createContext(g);
    const config = await resolveCodistillConfig(flags.config, paramsFromFlags(flags as unknown as Record<string, unknown>), flags.lockstep);
    const dataName = flags.data ?? config.data;
    if (!dataName) throw new InputError('--data', 'no training data given (--data, or data: in --config)');
    const labelColumn = flags.label ?? config.labelColumn;
    const raw = await loadDataFlag({ data: dataName, label: labelColumn });
    const architecture = config.model && !flags.model && !flags.hidden && !flags.modelConfig ? config.model : await architectureFromFlags(flags, prepareRunData(raw, config).spec);
    await checkOutputs([codistillRunOutput(flags.out)], flags);
    const settings = resumeSettings('codistill', { ...flags, store: flags.store ? redactUrl(flags.store) : undefined });
    // the files it reads: the flags', and the data its --config names
    const inputs = [...commandInputs(cmd, flags), ...(flags.data ? [] : inputFiles(`${flags.config}: data`, config.data, 'data'))];
    await runResumable({ path: flags.out, flag: '--out', inputs }, settings, flags, ctx.log, async (partial) => {
      // The run ID is kept in the temporary output, so a resumed launch joins the same run.
      const kept = partial.resumed ? await partial.readJson<{ runId: string }>('codistill-run.json') : undefined;
      const runId = kept?.runId ?? flags.run ?? newRunId();
      if (!kept) await partial.writeJson('codistill-run.json', { runId });
      const storeUrl = flags.store ?? path.join(partial.dir, 'store');
      const store = await openStore(storeUrl);
      const display = workerDisplay(ctx.log, !!g.quiet);
      try {
        const result = await runCodistillation({
          config, architecture, raw, dataName, labelColumn, store, storeUrl, out: flags.out, runId, resume: !!kept,
          cliCommand: [process.execPath, ...process.execArgv, process.argv[1]],
          workerGlobals: [...(g.engine ? ['--engine', g.engine] : []), '--quiet'],
          onEvent: display.onEvent,
          log: ctx.log,
          externalWorkersTimeout: flags.externalWorkers,
          extraFiles: async (r) => ({ 'report.md': renderCodistillReport(r), [HTML_REPORT_FILE]: await renderCodistillHtml(r) }),
        });
        display.stop();
        const lines = [
          `run ${result.runId}: ${result.workers.length} workers, ${config.steps} steps each, ${result.wallSeconds.toFixed(1)} s`,
          ...result.workers.map((w) => `  worker ${w.worker}: validation accuracy ${formatRate(w.valAccuracy)} (${w.shardRows} rows, ${w.trainingSeconds.toFixed(1)} s training${w.restarts ? `, ${w.restarts} restart(s)` : ''}, distilled ${distilled(w, result)} steps after burn-in${w.silentPeers.length ? `, silent peers ${w.silentPeers.join(',')}` : ''})`),
          `  deliverable: worker ${result.deliverable.worker} (${formatRate(result.deliverable.valAccuracy)}) → ${result.deliverable.modelDir}`,
          `  ensemble of ${result.ensemble.members} (paragon): ${formatRate(result.ensemble.valAccuracy)}; workers disagree on ${formatRate(result.meanPairwiseDisagreement)} of validation rows`,
          `results: ${path.join(flags.out, RUN_JSON)}, report ${path.join(flags.out, 'report.md')} and ${path.join(flags.out, HTML_REPORT_FILE)}`,
        ];
        ctx.out(lines.join('\n'));
        for (const w of result.warnings) ctx.warn(w);
      } finally {
        display.stop();
        await store.close();
      }
    });
  }));
}

interface WorkerFlags {
  store?: string;
  run: string;
  worker: number;
  of: number;
  data: string;
  label?: string;
  events?: 'json' | 'log';
  storeTimeout: number;
}

export function codistillWorkerCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('codistill-worker')
    .description('one codistillation worker of a run described in a store (on this or any machine that reaches the store and has the data)')
    .addOption(pathOption('--store <url>', `the run's checkpoint store: redis://… / rediss://… or a shared directory (or env ${STORE_ENV})`, PATH_KINDS.store))
    .requiredOption('--run <id>', 'run ID (as printed by `distillery codistill`)')
    .requiredOption('--worker <i>', 'this worker\'s index, 0-based', parseInteger('worker', 0, 63))
    .requiredOption('--of <n>', 'number of workers in the run', parseInteger('of', 2, 64))
    .addOption(pathOption('--data <file|name>', "this machine's copy of the run's data", PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column of a CSV')
    .addOption(new Option('--events <format>', 'progress as JSON lines on stdout (for a launcher) or log lines on stderr').choices(['json', 'log']).default('log'))
    .option('--store-timeout <seconds>', 'how long the final publication waits for an unreachable store', parseInteger('store-timeout', 1), 120);
  return cmd.action(async (flags: WorkerFlags) => {
    const g = globals();
    const ctx = await createContext(g);
    const url = storeUrlFrom(flags.store);
    const store = await openStore(url, flags.store ? '--store' : STORE_ENV);
    try {
      const raw = await loadDataFlag({ data: flags.data, label: flags.label });
      const log = (line: string) => process.stderr.write(line + '\n');
      const summary = await runCodistillWorker({
        store, runId: flags.run, worker: flags.worker, of: flags.of, data: raw, dataName: flags.data, log,
        storeTimeoutMs: flags.storeTimeout * 1000,
        onProgress: (p) => {
          if (flags.events === 'json') process.stdout.write(JSON.stringify({ event: 'progress', ...p }) + '\n');
          else if (!g.quiet) log(`worker ${p.worker}: step ${p.step}/${p.steps} loss=${p.loss.toFixed(4)} val_acc=${formatRate(p.valAccuracy)} peers=${p.peers.join(',') || '-'}`);
        },
      });
      if (flags.events !== 'json') ctx.out(`worker ${summary.worker} of run ${flags.run} (${redactUrl(url)}): ${summary.steps} steps (${summary.progress.distilledSteps} distilling from peers), validation accuracy ${formatRate(summary.valAccuracy)}`);
    } finally {
      await store.close();
    }
  });
}
