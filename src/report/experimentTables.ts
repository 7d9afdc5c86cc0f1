/** The tables of an update experiment's reports (text, Markdown, HTML). */
import type { UpdateExperimentResult } from '../experiments/updateExperiment.js';
import { formatMeanCI, formatRate, type Table } from './table.js';

/** The per-method summary: accuracy and churn (mean ± t-CI over seeds), flips, change vs plain retraining, and networks run per prediction. */
export function summaryTable(result: UpdateExperimentResult): Table {
  return {
    headers: ['method', 'inference', 'accuracy', 'churn', 'NFR', 'PFR', 'rel. NFR', 'churn vs plain', 'acc. vs plain'],
    rows: result.summary.map((s) => [
      s.method,
      `${s.inferenceCost ?? 1}×`,
      formatMeanCI(s.accuracy),
      formatMeanCI(s.churn),
      formatMeanCI(s.nfr),
      formatMeanCI(s.pfr),
      formatMeanCI(s.relativeNfr, { percent: false }),
      s.churnReductionVsPlain === null ? 'n/a' : formatRate(-s.churnReductionVsPlain, { signed: true, decimals: 1 }),
      s.accuracyDeltaVsPlain === null ? 'n/a' : formatRate(s.accuracyDeltaVsPlain, { signed: true }),
    ]),
  };
}

/** Per seed and method: accuracy, churn and NFR with bootstrap intervals, PD, epochs. */
export function perSeedTable(result: UpdateExperimentResult): Table {
  const ci = `${Math.round(result.config.bootstrap.level * 100)}% CI`;
  return {
    headers: ['seed', 'method', `accuracy [${ci}]`, `churn [${ci}]`, `NFR [${ci}]`, 'PD', 'epochs'],
    rows: result.trials.map((t) => [
      String(t.seed),
      t.method,
      formatRateCI(t.metrics.accuracyNew),
      formatRateCI(t.metrics.churn),
      formatRateCI(t.metrics.nfr),
      formatRate(t.metrics.predictionDifference?.estimate),
      String(t.epochsRun),
    ]),
  };
}

function formatRateCI(ci: { estimate: number; low: number; high: number }): string {
  return `${formatRate(ci.estimate)} [${(ci.low * 100).toFixed(2)}, ${(ci.high * 100).toFixed(2)}]`;
}

