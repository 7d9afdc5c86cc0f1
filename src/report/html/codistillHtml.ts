/**
 * The HTML report of a codistillation run (`distillery codistill`): each worker's validation
 * accuracy against its training time and its steps (time-to-accuracy curves), with the burn-in
 * marked and the deliverable and the workers' ensemble as reference lines; the workers' table;
 * and the set-up.
 */
import type { TopLevelSpec } from 'vega-lite';
import { lazy } from '../../util/lazy.js';

const toYaml = (value: unknown): string => lazy<typeof import('yaml')>('yaml')().stringify(value);
import type { CodistillResult } from '../../codistill/results.js';
import { renderVegaLiteSvg } from '../plot.js';
import { distilled } from '../codistillReport.js';
import { formatRate } from '../table.js';
import { h, htmlTable, inlineSvg, keyValues, pre, renderPage, type Section } from './page.js';

interface CurveRow {
  worker: string;
  step: number;
  seconds: number;
  accuracy: number;
}

/** Validation accuracy (%) of every worker against `x` (seconds or steps), burn-in shaded when x is steps. */
function curveSpec(rows: CurveRow[], x: 'seconds' | 'step', marks: { burnIn?: number; ensemble: number; deliverable: number }): TopLevelSpec {
  const rules = [
    { what: `deliverable ${marks.deliverable.toFixed(2)}%`, y: marks.deliverable },
    { what: `ensemble ${marks.ensemble.toFixed(2)}%`, y: marks.ensemble },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: x === 'seconds' ? 'Validation accuracy against training time' : 'Validation accuracy against steps',
    width: 440,
    height: 280,
    layer: [
      ...(marks.burnIn
        ? [{ data: { values: [{ from: 0, to: marks.burnIn }] }, mark: { type: 'rect' as const, color: '#eef0f2' }, encoding: { x: { field: 'from', type: 'quantitative' as const }, x2: { field: 'to' } } }]
        : []),
      {
        data: { values: rows },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x: { field: x, type: 'quantitative', title: x === 'seconds' ? 'training seconds (worker\'s own clock)' : 'steps' },
          y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy (%)', scale: { zero: false } },
          color: { field: 'worker', type: 'nominal', scale: { scheme: 'tableau10' } },
          tooltip: [{ field: 'worker' }, { field: 'step' }, { field: 'seconds', format: '.1f' }, { field: 'accuracy', format: '.2f' }],
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { y: { field: 'y', type: 'quantitative' }, color: { field: 'what', type: 'nominal', title: 'reference', scale: { domain: rules.map((r) => r.what), range: ['#c62828', '#7b8794'] } } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** The codistillation run's report as one self-contained HTML document. */
export async function renderCodistillHtml(r: CodistillResult): Promise<string> {
  const c = r.config;
  const rows: CurveRow[] = r.workers.flatMap((w) => w.curve.map((p) => ({ worker: `worker ${w.worker}`, step: p.step, seconds: p.seconds, accuracy: p.valAccuracy * 100 })));
  const marks = { ensemble: r.ensemble.valAccuracy * 100, deliverable: r.deliverable.valAccuracy * 100 };
  const [bySeconds, bySteps] = await Promise.all([
    renderVegaLiteSvg(curveSpec(rows, 'seconds', marks)),
    renderVegaLiteSvg(curveSpec(rows, 'step', { ...marks, burnIn: r.burnInSteps })),
  ]);
  const sections: Section[] = [
    {
      id: 'curves',
      title: 'Time to accuracy',
      intro: `Each worker's validation accuracy as it trained, against its own training time (restarts excluded) and its steps; the shaded steps are the burn-in (task loss only), after which each worker distils from its peers' checkpoints, reloaded every ${c.syncEvery} steps.`,
      body: h`<div class="grid2">${inlineSvg(bySeconds, 'validation accuracy against training seconds per worker')}${inlineSvg(bySteps, 'validation accuracy against steps per worker')}</div>`,
    },
    {
      id: 'workers',
      title: 'Workers',
      intro: `The deliverable is the worker best on validation; the ensemble of all ${r.ensemble.members} workers is the paragon (${r.ensemble.members}× inference). The workers disagree on ${formatRate(r.meanPairwiseDisagreement)} of validation rows (mean over pairs).`,
      body: htmlTable({
        headers: ['worker', 'shard rows', 'validation accuracy', 'training s', 'restarts', 'distilled steps', 'silent peers', 'refused checkpoints'],
        rows: r.workers.map((w) => [`worker ${w.worker}${w.worker === r.deliverable.worker ? ' (deliverable)' : ''}`, String(w.shardRows), formatRate(w.valAccuracy), w.trainingSeconds.toFixed(1), String(w.restarts), distilled(w, r), w.silentPeers.join(', ') || '—', String(w.refusedCheckpoints.length)]),
        align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      }),
    },
    {
      id: 'setup',
      title: 'Set-up',
      body: h`${keyValues([
        ['Data', `${r.data.name}: ${r.data.trainRows} training rows, ${r.data.validationRows} validation`],
        ['Schedule', `${r.workers.length} workers × ${c.steps} steps, batch ${c.batchSize}, learning rate ${c.learningRate}; burn-in ${r.burnInSteps} steps; R = ${c.syncEvery}; w = ${c.weight}; overlap ${c.overlap}`],
        ['Store', r.store],
        ['Engine', r.engine ?? 'n/a'],
        ['Run', `${r.runId}; ${r.wallSeconds.toFixed(1)} s; ${r.createdAt}`],
      ])}<h3>Configuration</h3>${pre(toYaml(c), 'config')}`,
    },
  ];
  return renderPage({
    title: `Codistillation run ${r.runId}`,
    kind: 'Codistillation (Anil et al. 2018)',
    meta: [`${r.data.name} · ${r.workers.length} workers · ${r.wallSeconds.toFixed(0)} s`],
    ...(r.warnings?.length ? { banner: { text: `Warning: ${r.warnings.join('; ')}.`, tone: 'bad' as const } } : {}),
    cards: [
      { label: 'deliverable', value: formatRate(r.deliverable.valAccuracy), detail: `worker ${r.deliverable.worker}, validation` },
      { label: `ensemble of ${r.ensemble.members}`, value: formatRate(r.ensemble.valAccuracy), detail: `paragon, ${r.ensemble.members}× inference` },
      { label: 'disagreement', value: formatRate(r.meanPairwiseDisagreement), detail: 'between workers, validation' },
    ],
    sections,
  });
}
