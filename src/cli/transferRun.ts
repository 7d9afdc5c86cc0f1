/** A transfer experiment run and reported into its run directory: `distillery transfer` and `distillery run` with `kind: transfer`. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import type { TransferExperimentConfig } from '../experiments/transferConfig.js';
import { runTransferExperimentParallel } from '../experiments/parallel.js';
import { renderTransferText, writeTransferRun } from '../report/transferReport.js';
import { InputError } from '../util/errors.js';
import { createContext, type GlobalFlags } from './context.js';

/** Refuses an --out that exists and is not a Distillery run (it would be replaced). */
async function checkOut(out: string): Promise<void> {
  const entries = await fs.readdir(out).catch(() => null);
  if (entries === null || entries.length === 0) return;
  if (!entries.includes('results.json')) throw new InputError('--out', `${out} exists and is not a Distillery run directory; choose a new directory`);
}

/** Runs a transfer experiment and writes its run directory (models, results.json, report.md). */
export async function runTransferAndReport(cfg: TransferExperimentConfig, out: string, globals: GlobalFlags, jobs?: number): Promise<void> {
  const ctx = await createContext(globals);
  await checkOut(out);
  const n = Math.min(jobs ?? availableParallelism(), cfg.seeds.length);
  ctx.log(`${cfg.name}: ${cfg.seeds.length} seed(s), student ${JSON.stringify(cfg.student)}, ${cfg.search} search; engine ${ctx.engine.backend}; ${n} seed(s) at a time`);
  const staging = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.models-${process.pid}`);
  try {
    const result = await runTransferExperimentParallel(cfg, { progress: ctx.progress, log: ctx.log }, { jobs: n, progressEvery: globals.verbose ? 10 : 0, saveDir: staging });
    await writeTransferRun(out, result, staging);
    ctx.out(renderTransferText(result));
    ctx.out(`\nreport: ${path.join(out, 'report.md')} (data ${path.join(out, 'results.json')}, models ${path.join(out, 'seed-*')})`);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
