/**
 * The HTML report of an update experiment (`distillery demo`, `run`): every method and seed
 * on the accuracy–churn and accuracy–NFR planes with t-interval bars and λ families joined
 * as a frontier, the churn-budget searches, the tables, and the run's set-up.
 */
import { lazy } from '../../util/lazy.js';

const toYaml = (value: unknown): string => lazy<typeof import('yaml')>('yaml')().stringify(value);
import type { MethodSummary, UpdateExperimentResult } from '../../experiments/updateExperiment.js';
import type { MeanCI } from '../../metrics/bootstrap.js';
import { perSeedTable, summaryTable } from '../experimentTables.js';
import { renderVegaLiteSvg } from '../plot.js';
import { formatRate } from '../table.js';
import { planeSpec, type FrontierPoint, type PlanePoint } from './charts.js';
import { h, htmlTable, inlineSvg, keyValues, pre, renderPage, type Card, type Section } from './page.js';
import type { TopLevelSpec } from 'vega-lite';

/** A rate's interval bound in percent, clipped to [0, 100] (a t-interval over few seeds can pass the ends). */
const pct = (x: number | null) => (x === null ? undefined : Math.min(100, Math.max(0, x * 100)));

function meanPoint(method: string, x: MeanCI, y: MeanCI): PlanePoint {
  return { method, x: x.mean * 100, y: y.mean * 100, xLow: pct(x.low), xHigh: pct(x.high), yLow: pct(y.low), yHigh: pct(y.high) };
}

/** λ of a method entry, when it has one. */
function lambdaOf(s: MethodSummary): number | undefined {
  const v = (s.spec as { lambda?: unknown }).lambda;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The λ families: entries of one method at two or more λ, joined in λ order. Distillation at
 * λ = 0 is plain retraining (its target is then the one-hot label), so plain starts that line.
 */
function frontier(result: UpdateExperimentResult, x: 'churn' | 'nfr'): FrontierPoint[] {
  const families = new Map<string, MethodSummary[]>();
  for (const s of result.summary) {
    if (lambdaOf(s) === undefined) continue;
    families.set(s.spec.method, [...(families.get(s.spec.method) ?? []), s]);
  }
  const plain = result.summary.find((s) => s.spec.method === 'plain');
  const out: FrontierPoint[] = [];
  for (const [family, members] of families) {
    if (new Set(members.map(lambdaOf)).size < 2) continue;
    const line = [...(family === 'distill' && plain ? [{ s: plain, lambda: 0 }] : []), ...members.map((s) => ({ s, lambda: lambdaOf(s)! }))];
    for (const { s, lambda } of line) out.push({ line: family, order: lambda, x: s[x].mean * 100, y: s.accuracy.mean * 100, label: s.method });
  }
  return out;
}

async function planes(result: UpdateExperimentResult): Promise<Section> {
  const methods = result.summary.map((s) => s.method);
  const plot = (x: 'churn' | 'nfr', xTitle: string) =>
    planeSpec({
      title: `Test accuracy against ${x === 'churn' ? 'churn' : 'negative flip rate'}`,
      xTitle,
      yTitle: 'test accuracy (%)',
      methods,
      seeds: result.trials.map((t) => ({ method: t.method, x: t.metrics[x].estimate * 100, y: t.metrics.accuracyNew.estimate * 100 })),
      means: result.summary.map((s) => meanPoint(s.method, s[x], s.accuracy)),
      frontier: frontier(result, x),
    });
  const [churn, nfr] = await Promise.all([renderVegaLiteSvg(plot('churn', 'churn vs base model (%)')), renderVegaLiteSvg(plot('nfr', 'NFR vs base model (%)'))]);
  const level = Math.round(result.config.bootstrap.level * 100);
  return {
    id: 'tradeoff',
    title: 'Accuracy against churn and negative flips',
    intro: `Large points: each method's mean over ${result.config.seeds.length} seed(s) with ${level}% Student-t intervals in both directions; faint points: single seeds. The dashed line joins one method's λ settings (distillation starts at plain retraining, λ = 0). Up and to the left is better.`,
    body: h`<div class="grid2">${inlineSvg(churn, 'test accuracy against churn')}${inlineSvg(nfr, 'test accuracy against NFR')}</div>`,
  };
}

function sweepSpec(result: UpdateExperimentResult): TopLevelSpec | null {
  const sweeps = result.trials.filter((t) => t.sweep);
  if (!sweeps.length) return null;
  const values = sweeps.flatMap((t) =>
    t.sweep!.points.map((p) => ({ run: `seed ${t.seed}, ${t.method}`, lambda: p.lambda, churn: p.validationChurn * 100, accuracy: p.validationAccuracy * 100, chosen: p.lambda === t.sweep!.chosenLambda ? 'chosen λ' : p.withinBudget ? 'within budget' : 'over budget' })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Churn-budget λ search (validation data)',
    width: 440,
    height: 280,
    config: { font: 'system-ui, sans-serif', title: { anchor: 'start', fontSize: 13 } },
    data: { values },
    encoding: {
      x: { field: 'churn', type: 'quantitative', title: 'validation churn (%)', scale: { zero: false } },
      y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy (%)', scale: { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'search' },
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.2, opacity: 0.7 }, encoding: { order: { field: 'lambda', type: 'quantitative' } } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { shape: { field: 'chosen', type: 'nominal', title: 'λ', scale: { domain: ['chosen λ', 'within budget', 'over budget'], range: ['diamond', 'circle', 'cross'] } } } },
    ],
  } as TopLevelSpec;
}

async function sweepSection(result: UpdateExperimentResult): Promise<Section | null> {
  const spec = sweepSpec(result);
  if (!spec) return null;
  const rows = result.trials.filter((t) => t.sweep).map((t) => [String(t.seed), t.method, t.sweep!.chosenLambda.toFixed(3), t.sweep!.budgetMet ? 'yes' : 'no (lowest churn taken)', String(t.sweep!.points.length)]);
  return {
    id: 'search',
    title: 'Churn-budget search',
    intro: 'Each search tries λ values on validation data and keeps the most accurate λ whose churn is within the budget.',
    body: h`<div class="grid2">${inlineSvg(await renderVegaLiteSvg(spec), 'churn-budget λ search')}${htmlTable({ headers: ['seed', 'method', 'chosen λ', 'budget met', 'λ tried'], rows })}</div>`,
  };
}

function cards(result: UpdateExperimentResult): Card[] {
  const base = result.base.map((b) => b.accuracy);
  const baseMean = base.reduce((a, b) => a + b, 0) / Math.max(1, base.length);
  const plain = result.summary.find((s) => s.spec.method === 'plain');
  const lowest = [...result.summary].sort((a, b) => a.churn.mean - b.churn.mean)[0];
  const best = [...result.summary].sort((a, b) => b.accuracy.mean - a.accuracy.mean)[0];
  return [
    { label: 'Base model accuracy', value: formatRate(baseMean), detail: `mean over ${base.length} seed(s)` },
    ...(plain ? [{ label: 'Churn of plain retraining', value: formatRate(plain.churn.mean), detail: `accuracy ${formatRate(plain.accuracy.mean)}, NFR ${formatRate(plain.nfr.mean)}` }] : []),
    ...(lowest ? [{ label: 'Lowest churn', value: formatRate(lowest.churn.mean), detail: `${lowest.method}; accuracy ${formatRate(lowest.accuracy.mean)}`, tone: 'good' as const }] : []),
    ...(best ? [{ label: 'Most accurate', value: formatRate(best.accuracy.mean), detail: `${best.method}; churn ${formatRate(best.churn.mean)}` }] : []),
    { label: 'Trials', value: `${result.config.seeds.length} × ${result.config.methods.length}`, detail: `seeds × methods; ${result.data.testExamples} test examples` },
  ];
}

/** The update experiment's report as one self-contained HTML document. */
export async function renderExperimentHtml(result: UpdateExperimentResult): Promise<string> {
  const c = result.config;
  const level = Math.round(c.bootstrap.level * 100);
  const engine = result.engine ? `${result.engine.backend} (${result.engine.threads} thread(s))` : 'n/a';
  const lowestChurn = Math.min(...result.summary.map((s) => s.churn.mean));
  const sections: (Section | null)[] = [
    await planes(result),
    {
      id: 'summary',
      title: 'Methods',
      intro: `Mean ± ${level}% Student-t half-width over ${c.seeds.length} seed(s). "inference": networks run per prediction. "churn vs plain": relative change of mean churn against plain retraining (negative = less churn). The row with the lowest churn is highlighted.`,
      body: htmlTable(summaryTable(result), { highlightRow: (_, i) => result.summary[i].churn.mean === lowestChurn }),
    },
    await sweepSection(result),
    {
      id: 'seeds',
      title: 'Per seed',
      intro: `Intervals: ${level}% percentile bootstrap over test examples (${c.bootstrap.resamples} resamples). Base model test accuracy: ${result.base.map((b) => `${formatRate(b.accuracy)} (seed ${b.seed})`).join(', ')}.`,
      body: htmlTable({ ...perSeedTable(result), align: ['left', 'left'] }),
    },
    {
      id: 'setup',
      title: 'Set-up',
      body: h`${keyValues([
        ['Data', `${result.data.source}: ${result.data.examples} examples, ${result.data.classes} classes, ${result.data.testExamples} held out for testing`],
        ['Scenario', `per seed: base model on ${c.split.initial} examples; new model on those plus ${c.split.newBatch} new; ${c.split.validation} for validation`],
        ['Seeds', c.seeds.join(', ')],
        ['Engine', engine],
        ['Distillery', `${result.libraryVersion}; started ${result.startedAt}; ${result.durationSeconds.toFixed(0)} s`],
      ])}<h3>Configuration</h3>${pre(toYaml(c), 'config')}`,
    },
  ];
  return renderPage({
    kind: 'Update experiment',
    title: result.name,
    meta: [`${result.data.source}: ${result.data.classes} classes, ${result.data.testExamples} test examples; ${c.seeds.length} seed(s) × ${c.methods.length} method(s)`, `Distillery ${result.libraryVersion} · engine ${engine} · ${result.startedAt}`],
    cards: cards(result),
    sections: sections.filter((s): s is Section => s !== null),
  });
}
