import type { TopLevelSpec } from 'vega-lite';
import type { UpdateExperimentResult } from '../experiments/updateExperiment.js';
import { formatRate, renderMarkdownTable, renderTextTable } from './table.js';
import { perSeedTable, summaryTable } from './experimentTables.js';
import { renderExperimentHtml } from './html/experimentHtml.js';
import { HTML_REPORT_FILE } from './html/page.js';

export { summaryTable } from './experimentTables.js';
import { renderVegaLiteSvg, type VegaLiteSpec } from './plot.js';
import { metadataFileSignature, writeDirAtomic, type OutputTarget } from '../util/outputs.js';
import { escapeMarkdown, markdownCode } from './escape.js';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { lazy } from '../util/lazy.js';

const toYaml = (value: unknown): string => lazy<typeof import('yaml')>('yaml')().stringify(value);

export const PLOT_FILE = 'accuracy-vs-churn.svg';
export { HTML_REPORT_FILE } from './html/page.js';

/** Plain-text summary for a terminal. */
export function renderExperimentText(result: UpdateExperimentResult): string {
  const level = Math.round(result.config.bootstrap.level * 100);
  return [
    `${result.name}: ${result.config.seeds.length} seed(s), ${result.data.testExamples} test examples; mean ± ${level}% t-interval over seeds`,
    renderTextTable(summaryTable(result)),
  ].join('\n');
}

/** A readable Markdown report: set-up, the summary table, the plot, per-seed detail, λ sweeps. */
export function renderExperimentMarkdown(result: UpdateExperimentResult): string {
  const c = result.config;
  const level = Math.round(c.bootstrap.level * 100);
  const lines: string[] = [
    `# ${escapeMarkdown(result.name)}`,
    '',
    `Distillery ${result.libraryVersion}, engine ${result.engine ? `${result.engine.backend} (${result.engine.threads} thread(s))` : 'n/a'}, started ${result.startedAt}, ${result.durationSeconds.toFixed(0)} s.`,
    '',
    '## Set-up',
    '',
    `- Data: ${markdownCode(result.data.source)}, ${result.data.classes} classes; ${result.data.testExamples} held-out test examples.`,
    `- Update scenario (one trial per seed, seeds ${c.seeds.join(', ')}): the base model trains on an initial sample of ${c.split.initial}, the new model on the initial sample plus a new batch of ${c.split.newBatch}; both use the same validation sample of ${c.split.validation} for early stopping.`,
    `- Model: ${markdownCode(JSON.stringify(c.model))}; training: ${c.training.optimizer}, learning rate ${c.training.learningRate}, batch ${c.training.batchSize}, at most ${c.training.epochs} epochs, patience ${c.training.patience}.`,
    `- Churn, NFR and PFR are measured on the test set between each trial's base model and its new model.`,
    `- Base model test accuracy: ${result.base.map((b) => `${formatRate(b.accuracy)} (seed ${b.seed})`).join(', ')}.`,
    '',
    '## Results',
    '',
    `Mean ± ${level}% Student-t half-width over ${c.seeds.length} seed(s). "inference" is the number of networks run per prediction (the ensemble paragon runs all its members). "churn vs plain" is the relative change of mean churn against plain retraining (negative = less churn). NFR: old model right, new wrong; rel. NFR = NFR / (acc_old · error_new), 1 for independent errors.`,
    '',
    renderMarkdownTable(summaryTable(result)),
    '',
    `![accuracy against churn](${PLOT_FILE})`,
    '',
    '## Per seed',
    '',
    `Intervals: ${level}% percentile bootstrap over test examples (${c.bootstrap.resamples} resamples).`,
    '',
    renderMarkdownTable(perSeedTable(result)),
  ];
  const sweeps = result.trials.filter((t) => t.sweep);
  if (sweeps.length) {
    lines.push('', '## Churn-budget λ search (validation data)', '');
    for (const t of sweeps) {
      lines.push(`Seed ${t.seed}, ${escapeMarkdown(t.method)}: chose λ=${t.sweep!.chosenLambda.toFixed(3)}${t.sweep!.budgetMet ? '' : ' (no λ met the budget: lowest churn taken)'}.`, '');
      lines.push(
        renderMarkdownTable({
          headers: ['λ', 'validation accuracy', 'validation churn', 'within budget'],
          rows: t.sweep!.points.map((p) => [p.lambda.toFixed(3), formatRate(p.validationAccuracy), formatRate(p.validationChurn), p.withinBudget ? 'yes' : 'no']),
        }),
        '',
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** Accuracy against churn: one faint point per seed, one large point per method mean (the paper's trade-off view). */
export function accuracyChurnPlotSpec(result: UpdateExperimentResult): VegaLiteSpec {
  const perSeed = result.trials.map((t) => ({ method: t.method, churn: t.metrics.churn.estimate * 100, accuracy: t.metrics.accuracyNew.estimate * 100, kind: 'seed' }));
  const means = result.summary.map((s) => ({ method: s.method, churn: s.churn.mean * 100, accuracy: s.accuracy.mean * 100, kind: 'mean' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${result.name}: test accuracy against churn vs the base model`,
    width: 520,
    height: 340,
    background: 'white',
    data: { values: [...perSeed, ...means] },
    mark: { type: 'point', filled: true },
    encoding: {
      x: { field: 'churn', type: 'quantitative', title: 'churn vs base model (%)', scale: { zero: false } },
      y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
      color: { field: 'method', type: 'nominal', title: 'method' },
      size: { field: 'kind', type: 'ordinal', sort: ['seed', 'mean'], scale: { domain: ['seed', 'mean'], range: [30, 160] }, title: 'point' },
      opacity: { field: 'kind', type: 'ordinal', sort: ['seed', 'mean'], scale: { domain: ['seed', 'mean'], range: [0.35, 1] }, legend: null },
    },
  } as TopLevelSpec;
}

/** The metadata file of a run directory, and its mark. */
export const RUN_RESULTS = 'results.json';
const RUN_FORMAT = 'distillery-run';

/** A run directory as an output (util/outputs.ts): Distillery's when its results.json says so (or is from a version before the mark). */
export function runOutput(dir: string, flag = '--out'): OutputTarget {
  return { path: dir, type: 'dir', what: 'run directory', flag, isOurs: metadataFileSignature(RUN_RESULTS, new RegExp(`^\\{\\s*"(format": "${RUN_FORMAT}"|name": )`)) };
}

/**
 * Writes a run directory atomically: results.json, report.md, report.html, summary.txt, the plot and
 * the resolved config. A failure leaves no half-written directory.
 */
export async function writeExperimentRun(dir: string, result: UpdateExperimentResult): Promise<void> {
  const svg = await renderVegaLiteSvg(accuracyChurnPlotSpec(result));
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, RUN_RESULTS), JSON.stringify({ format: RUN_FORMAT, ...result }, null, 2));
    await fs.writeFile(path.join(tmp, 'report.md'), renderExperimentMarkdown(result));
    await fs.writeFile(path.join(tmp, HTML_REPORT_FILE), await renderExperimentHtml(result));
    await fs.writeFile(path.join(tmp, 'summary.txt'), renderExperimentText(result) + '\n');
    await fs.writeFile(path.join(tmp, PLOT_FILE), svg);
    await fs.writeFile(path.join(tmp, 'config.yaml'), toYaml(result.config));
  });
}
