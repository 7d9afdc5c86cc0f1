/**
 * Tables of results for a terminal (aligned plain text) and for GitHub (Markdown), number
 * formatting helpers, and the rendering of a model comparison (`distillery compare`).
 */
import type { Interval, MeanCI } from '../metrics/bootstrap.js';
import type { ClassFlipsReport, ComparisonReport } from '../metrics/compare.js';
import { escapeMarkdown } from './escape.js';

export type Align = 'left' | 'right';

/** A table of already formatted cells. */
export interface Table {
  headers: string[];
  rows: string[][];
  /** Per column; default left for the first column, right for the others. */
  align?: Align[];
}

/** Shown for a value that is undefined (e.g. a 0/0 rate). */
export const MISSING = 'n/a';

function columnAlign(table: Table, j: number): Align {
  return table.align?.[j] ?? (j === 0 ? 'left' : 'right');
}

/** Display width in code points (good enough for the ASCII and Latin text we print). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

function cellsOf(table: Table): string[][] {
  const ncol = table.headers.length;
  return [table.headers, ...table.rows].map((r) => Array.from({ length: ncol }, (_, j) => r[j] ?? ''));
}

/** Aligned plain-text table: columns two spaces apart, a dashed rule under the header. */
export function renderTextTable(table: Table): string {
  const cells = cellsOf(table).map((r) => r.map((c) => c.replace(/\s*\n\s*/g, ' ')));
  const widths = table.headers.map((_, j) => Math.max(...cells.map((r) => width(r[j]))));
  const line = (r: string[]): string => r.map((c, j) => pad(c, widths[j], columnAlign(table, j))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

/** GitHub-flavoured Markdown table (cells escaped as Markdown text, see escape.ts; right-aligned columns marked `---:`). */
export function renderMarkdownTable(table: Table): string {
  const cells = cellsOf(table).map((r) => r.map(escapeMarkdown));
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  const rule = table.headers.map((_, j) => (columnAlign(table, j) === 'right' ? '---:' : '---'));
  return [line(cells[0]), line(rule), ...cells.slice(1).map(line)].join('\n');
}

export interface NumberFormat {
  /** Show as a percentage (×100, "%" after the estimate); default true. */
  percent?: boolean;
  /** Decimals; default 2. */
  decimals?: number;
  /** Prefix positive values with "+" (for differences); default false. */
  signed?: boolean;
}

function formatNumber(x: number, { percent = true, decimals = 2, signed = false }: NumberFormat): string {
  const v = (percent ? x * 100 : x).toFixed(decimals);
  return signed && x > 0 ? `+${v}` : v;
}

/** A rate as a percentage with 2 decimals: 0.12345 → "12.35%"; null/NaN → "n/a". */
export function formatRate(x: number | null | undefined, fmt: NumberFormat = {}): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  const percent = fmt.percent ?? true;
  return formatNumber(x, fmt) + (percent ? '%' : '');
}

/** An estimate with its interval: "12.34% [11.02, 13.71]" (bounds in the estimate's unit). */
export function formatCI(ci: Interval | null | undefined, fmt: NumberFormat = {}): string {
  if (!ci || !Number.isFinite(ci.estimate)) return MISSING;
  const bound = (x: number): string => (Number.isFinite(x) ? formatNumber(x, { ...fmt, signed: false }) : MISSING);
  return `${formatRate(ci.estimate, fmt)} [${bound(ci.low)}, ${bound(ci.high)}]`;
}

/** Mean across runs with its t half-width: "12.34% ± 1.02" (just the mean when n < 2). */
export function formatMeanCI(m: MeanCI, fmt: NumberFormat = {}): string {
  const mean = formatRate(m.mean, fmt);
  if (m.halfWidth === null) return mean;
  return `${mean} ± ${formatNumber(m.halfWidth, { ...fmt, signed: false })}`;
}

/** A p-value with 3 significant digits, "< 0.001" below that. */
export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return MISSING;
  return p < 0.001 ? '< 0.001' : p.toPrecision(3);
}

/** "= 0.0386" or "< 0.001", for use after "p". */
function pEquals(p: number): string {
  const s = formatPValue(p);
  return s.startsWith('<') ? s : `= ${s}`;
}

type MetricKey = keyof ComparisonReport['metrics'];

/** Rows of the summary table: metric, label, one-line meaning, display format. */
const SUMMARY_ROWS: { key: MetricKey; label: string; meaning: string; fmt?: NumberFormat }[] = [
  { key: 'accuracyOld', label: 'Accuracy (old)', meaning: 'old model correct' },
  { key: 'accuracyNew', label: 'Accuracy (new)', meaning: 'new model correct' },
  { key: 'accuracyGain', label: 'Accuracy gain', meaning: 'new − old (= PFR − NFR)', fmt: { signed: true } },
  { key: 'churn', label: 'Churn', meaning: 'top-1 prediction changed' },
  { key: 'nfr', label: 'NFR (bad churn)', meaning: 'old right, new wrong' },
  { key: 'pfr', label: 'PFR (good churn)', meaning: 'old wrong, new right' },
  { key: 'wrongToWrongRate', label: 'Wrong→wrong', meaning: 'both wrong, prediction changed' },
  { key: 'nfi', label: 'NFI', meaning: 'share of new errors that are negative flips' },
  { key: 'pfi', label: 'PFI', meaning: 'share of new correct answers that are fixes' },
  { key: 'relativeNfr', label: 'Relative NFR', meaning: 'NFR / (acc_old · ER_new); 1 = independent errors', fmt: { percent: false } },
  { key: 'predictionDifference', label: 'Prediction difference', meaning: 'mean ½·Σ|p_old − p_new|' },
];

/** The comparison's metrics with their intervals and meanings. */
export function comparisonSummaryTable(report: ComparisonReport): Table {
  const rows = SUMMARY_ROWS.filter((r) => r.key !== 'predictionDifference' || report.metrics.predictionDifference)
    .map((r) => [r.label, formatCI(report.metrics[r.key], r.fmt), r.meaning]);
  const level = `${Math.round(report.level * 1000) / 10}% CI`;
  return { headers: ['Metric', `Estimate [${level}]`, 'Meaning'], rows, align: ['left', 'right', 'left'] };
}

/** Classes ordered by negative flips (most first; ties by class index), empty classes left out. */
export function topClassesByNegativeFlips(perClass: ClassFlipsReport[], top: number): ClassFlipsReport[] {
  return perClass
    .filter((c) => c.n > 0)
    .sort((a, b) => b.negativeFlips - a.negativeFlips || a.classIndex - b.classIndex)
    .slice(0, top);
}

export function perClassTable(classes: ClassFlipsReport[]): Table {
  return {
    headers: ['Class', 'n', 'Neg. flips', 'Pos. flips', 'Churned', 'NFR in class'],
    rows: classes.map((c) => [
      c.className,
      String(c.n),
      String(c.negativeFlips),
      String(c.positiveFlips),
      String(c.churned),
      formatRate(c.negativeFlips / c.n),
    ]),
  };
}

/** Counts and McNemar's test of a comparison, as sentences. */
export function comparisonSummaryLines(report: ComparisonReport): string[] {
  const c = report.counts;
  const m = report.mcnemar;
  return [
    `Counts: ${c.n} examples, ${c.changed} changed: ${c.negativeFlips} negative flips, ` +
      `${c.positiveFlips} positive flips, ${c.wrongToWrongChanges} wrong→wrong.`,
    `McNemar (old vs new accuracy): only old right ${m.onlyACorrect}, only new right ${m.onlyBCorrect}, ` +
      `exact p ${pEquals(m.pValue)}.`,
  ];
}

const fmt3 = (v: number | null) => (v === null ? '—' : v.toFixed(3));

/** Negative flips vs all examples: old margin and logit distances (median, 90th percentile, mean). */
export function flipAnalysisTable(report: ComparisonReport): Table | null {
  const fa = report.flipAnalysis;
  if (!fa) return null;
  const q = (d: { quantiles: { q: number; value: number | null }[] }, at: number) => fmt3(d.quantiles.find((x) => x.q === at)?.value ?? null);
  const rows = (
    [
      ['Old margin (top-1 − top-2 prob.)', fa.oldMargin],
      ['Logit distance L2 (centred)', fa.logitL2],
      ['Logit distance L∞ (centred)', fa.logitLInf],
    ] as const
  ).flatMap(([label, a]) => [
    [label, 'negative flips', String(a.negativeFlips.n), q(a.negativeFlips, 0.5), q(a.negativeFlips, 0.9), fmt3(a.negativeFlips.mean)],
    ['', 'all examples', String(a.all.n), q(a.all, 0.5), q(a.all, 0.9), fmt3(a.all.mean)],
  ]);
  return { headers: ['Quantity', 'Examples', 'n', 'Median', '90th pct.', 'Mean'], rows, align: ['left', 'left', 'right', 'right', 'right', 'right'] };
}

export function flipAnalysisLine(report: ComparisonReport): string | null {
  const nb = report.flipAnalysis?.nearBoundary;
  if (!nb || nb.negativeFlips === null) return null;
  return `Near the old decision boundary (old margin < ${nb.threshold}): ${formatRate(nb.negativeFlips)} of negative flips, ${formatRate(nb.all)} of all examples.`;
}

export interface ComparisonRenderOptions {
  /** How many classes the per-class table shows; default 10. */
  topClasses?: number;
}

/** Text (terminal) and Markdown renderings of a model comparison. */
export function renderComparison(
  report: ComparisonReport,
  opts: ComparisonRenderOptions = {},
): { text: string; markdown: string } {
  const summary = comparisonSummaryTable(report);
  const classes = topClassesByNegativeFlips(report.perClass, opts.topClasses ?? 10);
  const perClass = perClassTable(classes);
  const title = `Old vs new model on ${report.n} examples (percentile bootstrap, ${report.resamples} resamples)`;
  const classTitle = `Top ${classes.length} of ${report.numClasses} classes by negative flips`;
  const lines = comparisonSummaryLines(report);
  const flips = flipAnalysisTable(report);
  const flipsTitle = 'Where negative flips happen: negative flips vs all examples';
  const flipsLine = flipAnalysisLine(report);
  const text = [
    title, '', renderTextTable(summary), '', ...lines, '', classTitle, '', renderTextTable(perClass),
    ...(flips ? ['', flipsTitle, '', renderTextTable(flips), ...(flipsLine ? [flipsLine] : [])] : []),
  ].join('\n');
  const markdown = [
    `### ${title}`,
    '',
    renderMarkdownTable(summary),
    '',
    ...lines.map((l) => `- ${l}`),
    '',
    `#### ${classTitle}`,
    '',
    renderMarkdownTable(perClass),
    ...(flips ? ['', `#### ${flipsTitle}`, '', renderMarkdownTable(flips), ...(flipsLine ? ['', flipsLine] : [])] : []),
  ].join('\n');
  return { text: text + '\n', markdown: markdown + '\n' };
}
