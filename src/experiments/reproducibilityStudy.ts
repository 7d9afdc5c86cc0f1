/**
 * The reproducibility study (reproducibility.ts): every retrain of every recipe, in this thread
 * or `jobs` at a time as `reproducibility-retrain` tasks of the worker pool, then the paired
 * churn and prediction difference of the retrains.
 */
import { availableParallelism } from 'node:os';
import { argmaxRows } from '../models/logits.js';
import { churn, scoresAccuracy } from '../models/agreement.js';
import { meanCI } from '../metrics/bootstrap.js';
import { predictionDifference } from '../metrics/predictionDifference.js';
import { engineInfo } from '../engine/index.js';
import { runTasks } from './workerPool.js';
import { prepareReproducibilityData, retrainTestProbs, type PairMetrics, type RecipeSummary, type ReproducibilityConfig, type ReproducibilityResult } from './reproducibility.js';

export interface ReproducibilityHooks {
  log?: (line: string) => void;
  /** Retrains run at once, each in its own worker thread (default: number of cores; 1 = in this thread). */
  jobs?: number;
}

export async function runReproducibility(cfg: ReproducibilityConfig, hooks: ReproducibilityHooks = {}): Promise<ReproducibilityResult> {
  const started = Date.now();
  const log = hooks.log ?? (() => {});
  const data = await prepareReproducibilityData(cfg);
  const { train, test } = data;
  const K = train.classNames.length;
  const pairCount = Math.floor(cfg.runs / 2);
  const retrains = cfg.recipes.flatMap((recipe) => Array.from({ length: 2 * pairCount }, (_, run) => ({ recipe, run })));
  const engine = engineInfo();
  const jobs = Math.max(1, Math.min(hooks.jobs ?? availableParallelism(), retrains.length));
  const done = (i: number) => log(`${retrains[i].recipe}: retrain ${retrains[i].run} done`);
  let probs: Float32Array[];
  if (jobs === 1 || !engine) {
    probs = [];
    for (const [i, { recipe, run }] of retrains.entries()) {
      probs.push(await retrainTestProbs(cfg, recipe, run, data));
      done(i);
    }
  } else {
    probs = await runTasks(
      retrains.map(({ recipe, run }) => ({ kind: 'reproducibility-retrain' as const, input: { cfg, recipe, run } })),
      { jobs, engine, log, onDone: done },
    );
  }
  const summaries: RecipeSummary[] = cfg.recipes.map((recipe, r) => {
    const pairs: PairMetrics[] = Array.from({ length: pairCount }, (_, k) => {
      const a = probs[r * 2 * pairCount + 2 * k];
      const b = probs[r * 2 * pairCount + 2 * k + 1];
      const pair = {
        runs: [2 * k, 2 * k + 1] as [number, number],
        churn: churn(argmaxRows(a, K), argmaxRows(b, K)),
        predictionDifference: predictionDifference(a, b, K),
        accuracy: (scoresAccuracy(a, test.labels, K) + scoresAccuracy(b, test.labels, K)) / 2,
      };
      log(`${recipe}: retrains ${2 * k} and ${2 * k + 1}: churn ${(pair.churn * 100).toFixed(2)}%, PD ${(pair.predictionDifference * 100).toFixed(2)}%`);
      return pair;
    });
    return {
      recipe,
      pairs,
      churn: meanCI(pairs.map((x) => x.churn)),
      predictionDifference: meanCI(pairs.map((x) => x.predictionDifference)),
      accuracy: meanCI(pairs.map((x) => x.accuracy)),
    };
  });
  const plain = summaries.find((s) => s.recipe === 'plain');
  if (plain) {
    for (const s of summaries) {
      if (s === plain) continue;
      s.churnRatioToPlain = meanCI(s.pairs.map((x, i) => x.churn / plain.pairs[i].churn));
      s.pdRatioToPlain = meanCI(s.pairs.map((x, i) => x.predictionDifference / plain.pairs[i].predictionDifference));
    }
  }
  return { format: 'distillery-reproducibility', config: cfg, trainRows: train.labels.length, testRows: test.labels.length, recipes: summaries, engine: engine?.backend, seconds: (Date.now() - started) / 1000 };
}
