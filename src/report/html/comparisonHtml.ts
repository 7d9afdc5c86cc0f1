/**
 * The HTML report of a comparison of two models (`distillery compare`, `gate`): headline
 * numbers, the flip matrix and per-class flips, where negative flips happen (old margin and
 * logit distance against all examples), and every flipped example in a sortable, filterable,
 * paged table.
 */
import type { ComparisonReport } from '../../metrics/compare.js';
import type { FlippedExample } from '../../metrics/flipDetail.js';
import type { GateVerdict } from '../../metrics/gate.js';
import type { SliceComparison } from '../../metrics/slices.js';
import type { RegionDiscovery } from '../../metrics/regions.js';
import { renderVegaLiteSvg } from '../plot.js';
import { comparisonSummaryLines, comparisonSummaryTable, flipAnalysisLine, flipAnalysisTable, formatCI, formatRate, perClassTable, topClassesByNegativeFlips } from '../table.js';
import { distributionSpec, flipMatrixSpec, perClassFlipsSpec, sliceNfrSpec } from './charts.js';
import { regionMethodLine, regionTable, sliceTable, slicingTitle } from '../sliceTables.js';
import { SLICE_METRICS } from '../../metrics/slices.js';
import { sortableTable, SORTABLE_TABLE_SCRIPT, type SortValue } from './sortableTable.js';
import { h, htmlTable, inlineSvg, keyValues, renderPage, type Card, type Html, type Section } from './page.js';

/** A flipped example with a short description of its input (features or text). */
export type ReviewedFlip = FlippedExample & {
  features: string;
  /** Grey pixels, base64 (image data). */
  thumbnail?: string;
  /** Its slice of each slicing asked for (slicing → slice), with `--slice-by`. */
  slices?: Record<string, string>;
  /** The rules of the confirmed regions it is in, with `--find-regions`. */
  regions?: string[];
};

/** Everything the comparison page shows; the JSON reports of compare and gate hold it. */
export interface ComparisonView {
  old: string;
  new: string;
  data: string;
  classNames: string[];
  report: ComparisonReport;
  /** [old class][new class] counts over all examples. */
  flipMatrix: number[][];
  flippedExamples: ReviewedFlip[];
  /** [height, width] of the thumbnails, for image data. */
  imageShape?: [number, number];
  libraryVersion: string;
  engine?: { backend: string; threads: number } | null;
  createdAt: string;
  gate?: { verdict: GateVerdict; policy: unknown };
  /** The comparison slice by slice (`--slice-by`). */
  slices?: SliceComparison | null;
  /** Regions where negative flips concentrate, found on one half and confirmed on the other (`--find-regions`). */
  regions?: RegionDiscovery | null;
}

function cards(report: ComparisonReport): Card[] {
  const m = report.metrics;
  const gain = m.accuracyGain;
  return [
    { label: 'Accuracy (new)', value: formatRate(m.accuracyNew.estimate), detail: `old ${formatRate(m.accuracyOld.estimate)}; gain ${formatCI(gain, { signed: true })}`, tone: gain.low > 0 ? 'good' : gain.high < 0 ? 'bad' : 'neutral' },
    { label: 'Churn', value: formatRate(m.churn.estimate), detail: `${report.counts.changed} of ${report.n} predictions changed` },
    { label: 'Negative flips (NFR)', value: formatRate(m.nfr.estimate), detail: `${report.counts.negativeFlips} examples: old right, new wrong`, tone: report.counts.negativeFlips > 0 ? 'bad' : 'good' },
    { label: 'Positive flips (PFR)', value: formatRate(m.pfr.estimate), detail: `${report.counts.positiveFlips} examples: old wrong, new right`, tone: 'good' },
    { label: 'Relative NFR', value: m.relativeNfr ? m.relativeNfr.estimate.toFixed(2) : 'n/a', detail: '1 = errors independent of the old model' },
    ...(m.predictionDifference ? [{ label: 'Prediction difference', value: formatRate(m.predictionDifference.estimate), detail: 'mean ½·Σ|p_old − p_new|' }] : []),
  ];
}

function gateSection(gate: NonNullable<ComparisonView['gate']>): Section {
  const v = gate.verdict;
  return {
    id: 'gate',
    title: 'Release gate',
    intro: `Decided on ${v.decideOn === 'bound' ? `the unfavourable end of each ${Math.round(v.level * 100)}% bootstrap interval` : 'point estimates'} over ${v.n} examples.`,
    body: htmlTable({ headers: ['Check', 'Result'], rows: v.checks.map((c) => [c.reason, c.passed ? 'pass' : 'FAIL']), align: ['left', 'left'] }, { highlightRow: (r) => r[1] === 'FAIL' }),
  };
}

async function flipsByClassSection(view: ComparisonView): Promise<Section> {
  const { report, classNames } = view;
  const matrix = await renderVegaLiteSvg(flipMatrixSpec(classNames, view.flipMatrix));
  const perClass = await renderVegaLiteSvg(perClassFlipsSpec(report.perClass.filter((c) => c.n > 0)));
  const top = topClassesByNegativeFlips(report.perClass, 10);
  return {
    id: 'classes',
    title: 'Flips by class',
    intro: 'Left: where changed predictions went (row: the old model\'s class, column: the new model\'s; unchanged predictions, the diagonal, are left out). Right: negative flips (red, below the axis) and positive flips (green) per true class.',
    body: h`<div class="grid2">${inlineSvg(matrix, 'flip matrix: old prediction by new prediction')}${inlineSvg(perClass, 'negative and positive flips per true class')}</div>
<h3>Classes with the most negative flips</h3>${htmlTable(perClassTable(top))}`,
  };
}

async function whereSection(report: ComparisonReport): Promise<Section | null> {
  const fa = report.flipAnalysis;
  if (!fa) return null;
  const plots = await Promise.all(
    ([
      ['Old margin (top-1 − top-2 probability)', fa.oldMargin],
      ['Logit distance L2 (centred)', fa.logitL2],
      ['Logit distance L∞ (centred)', fa.logitLInf],
    ] as const).map(async ([title, q]) => inlineSvg(await renderVegaLiteSvg(distributionSpec(title, q)), title)),
  );
  const table = flipAnalysisTable(report);
  const line = flipAnalysisLine(report);
  return {
    id: 'where',
    title: 'Where negative flips happen',
    intro: 'Each quantity\'s distribution among negative flips (red) against all examples (grey), as shares of each group. Negative flips far from the old decision boundary, with large logit distances, are the ones logit difference inhibition (ELODI) targets.',
    body: h`<div class="grid3">${plots}</div>${table ? htmlTable(table) : null}${line ? h`<p>${line}</p>` : null}`,
  };
}

function flippedSection(view: ComparisonView): Section {
  const n = view.flippedExamples.length;
  return {
    id: 'examples',
    title: 'Flipped examples',
    intro: `The ${n} examples whose prediction changed. Click a column to sort; filter by kind of flip or true class. "Old p" and "New p" are each model's probability of its own prediction; row numbers count data rows from 1.`,
    body: h`<div class="controls">
<label for="flip-kind">Flip</label><select id="flip-kind"><option value="all">all changes</option><option value="negative">negative flips</option><option value="positive">positive flips</option><option value="wrong-to-wrong">wrong → wrong</option></select>
<label for="flip-class">True class</label><select id="flip-class"><option value="all">all classes</option></select>
<button type="button" id="flip-prev">‹ previous</button><button type="button" id="flip-next">next ›</button>
<span class="count" id="flip-count"></span>
</div>
<div class="table-wrap"><table class="data" id="flips"><thead><tr></tr></thead><tbody></tbody></table></div>`,
  };
}

/** Slice by slice: per slicing, NFR with intervals as a chart and every number in a sortable table. */
async function slicesSection(view: ComparisonView): Promise<Section | null> {
  const slices = view.slices;
  if (!slices?.slicings.length) return null;
  const limit = view.gate?.verdict.checks.find((c) => c.limitName === 'maxSliceNfr')?.limit;
  const checkedOn = view.gate?.verdict.decideOn === 'bound' ? 'upper' : 'estimate';
  const blocks = await Promise.all(
    slices.slicings.map(async (slicing, k) => {
      const points = slicing.slices.map((s) => ({ label: s.label, n: s.n, nfr: s.metrics.nfr.estimate, low: s.metrics.nfr.low, high: s.metrics.nfr.high, small: s.small }));
      const chart = await renderVegaLiteSvg(sliceNfrSpec(`NFR by ${slicing.spec}`, points, slices.overall.metrics.nfr.estimate, limit));
      const table = sliceTable(slicing, slices);
      const rows = [slices.overall, ...slicing.slices];
      const sortValues = rows.map((s): SortValue[] => [s.label, s.n, s.counts.negativeFlips, ...SLICE_METRICS.map((m) => s.metrics[m.key]?.estimate ?? null), s.small ? 'small' : '']);
      const over = (i: number) => limit !== undefined && i > 0 && !rows[i].small && (checkedOn === 'upper' ? rows[i].metrics.nfr.high : rows[i].metrics.nfr.estimate) > limit;
      return h`<h3>${slicingTitle(slicing, slices)}</h3>${inlineSvg(chart, `negative flip rate by ${slicing.spec}`)}${sortableTable(table, { id: `slices-${k + 1}`, sortValues, highlightRow: over })}`;
    }),
  );
  return {
    id: 'slices',
    title: 'Slices',
    intro: `Each slice's numbers with ${Math.round(slices.level * 100)}% percentile bootstrap intervals from resampling its own examples (${slices.resamples} resamples); the first row is all examples. Slices under ${slices.minSize} examples are marked small: shown, not gated. Click a column to sort.`,
    body: h`${blocks}`,
  };
}

/** Regions where negative flips concentrate: the rule, its size and NFR on both halves, and whether the confirmation half bears it out. */
function regionsSection(view: ComparisonView): Section | null {
  const d = view.regions;
  if (!d) return null;
  const table = regionTable(d);
  const sortValues = d.regions.map((r, k): SortValue[] => [k + 1, r.rule, r.confirm.n, r.fit.nfr, r.confirmNfr.estimate, r.confirm.nfrOutside, r.confirm.negativeFlips, r.confirm.lift, r.adjustedP, r.confirmed ? 'yes' : 'no']);
  return {
    id: 'regions',
    title: 'Discovered regions',
    intro: regionMethodLine(d),
    body: d.regions.length
      ? sortableTable(table, { id: 'region-table', sortValues, highlightRow: (i) => d.regions[i].confirmed })
      : h`<p class="muted">No candidate region: on the fit half, no region of at least ${d.settings.minSize} examples had ${d.settings.minLift}× the NFR with more negative than positive flips.</p>`,
  };
}

function setupSection(view: ComparisonView): Section {
  const r = view.report;
  const engine = view.engine ? `${view.engine.backend} (${view.engine.threads} thread(s))` : 'n/a';
  return {
    id: 'setup',
    title: 'Set-up',
    body: keyValues([
      ['Old model', view.old],
      ['New model', view.new],
      ['Data', `${view.data}: ${r.n} examples, ${r.numClasses} classes`],
      ['Intervals', `${Math.round(r.level * 1000) / 10}% percentile bootstrap over examples, ${r.resamples} resamples, seed ${r.seed}`],
      ['Classes', view.classNames.join(', ')],
      ['Distillery', `${view.libraryVersion}; engine ${engine}; written ${view.createdAt}`],
      ...(view.gate ? ([['Gate policy', h`<code>${JSON.stringify(view.gate.policy)}</code>`]] as [string, Html][]) : []),
    ]),
  };
}

/** The JSON data block of the flipped-examples table (rows as arrays to keep the file small). */
function tableData(view: ComparisonView): unknown {
  const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1e4) / 1e4);
  return {
    flips: {
      classNames: view.classNames,
      imageShape: view.imageShape ?? null,
      rows: view.flippedExamples.map((e) => [e.index, e.kind, e.label, e.old, e.new, r3(e.pOld), r3(e.pNew), r3(e.oldMargin), r3(e.logitL2), e.features, e.thumbnail ?? null]),
    },
  };
}

/** The comparison (or gate) report as one self-contained HTML document. */
export async function renderComparisonHtml(view: ComparisonView): Promise<string> {
  const report = view.report;
  const summary: Section = {
    id: 'summary',
    title: 'Summary',
    intro: `Old vs new model on ${report.n} examples; ${Math.round(report.level * 100)}% percentile bootstrap intervals.`,
    body: h`${htmlTable(comparisonSummaryTable(report))}${comparisonSummaryLines(report).map((l) => h`<p>${l}</p>`)}`,
  };
  const sections = [
    ...(view.gate ? [gateSection(view.gate)] : []),
    summary,
    await flipsByClassSection(view),
    await slicesSection(view),
    regionsSection(view),
    await whereSection(report),
    flippedSection(view),
    setupSection(view),
  ].filter((s): s is Section => s !== null);
  const v = view.gate?.verdict;
  return renderPage({
    kind: view.gate ? 'Release gate' : 'Model comparison',
    title: `${view.old} → ${view.new}`,
    meta: [`on ${view.data}: ${report.n} examples, ${report.numClasses} classes`, `Distillery ${view.libraryVersion} · ${view.createdAt}`],
    banner: v ? { text: v.passed ? `Release passes all ${v.checks.length} limit(s)` : `Release blocked: ${v.checks.filter((c) => !c.passed).map((c) => c.reason).join('; ')}`, tone: v.passed ? 'good' : 'bad' } : undefined,
    cards: cards(report),
    sections,
    data: tableData(view),
    scripts: view.slices?.slicings.length || view.regions ? [SORTABLE_TABLE_SCRIPT] : undefined,
  });
}
