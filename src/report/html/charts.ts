/** Vega-Lite specs of the HTML reports' plots (rendered to inline SVG by report/plot.ts). */
import type { TopLevelSpec } from 'vega-lite';
import type { QuantityAnalysis } from '../../metrics/flipAnalysis.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
export const FLIP_COLORS = { negative: '#c62828', positive: '#2e7d32', wrongToWrong: '#7b8794', all: '#8aa0b8' };

const config = {
  font: FONT,
  background: 'white',
  view: { stroke: '#e4e7eb' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, gridColor: '#eef0f2', domainColor: '#9aa5b1', tickColor: '#9aa5b1' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, symbolOpacity: 1 },
  title: { fontSize: 13, fontWeight: 600, anchor: 'start' as const },
};

/** A method's point on the plane: mean over seeds with its t-interval (low/high), or one seed. */
export interface PlanePoint {
  method: string;
  x: number;
  y: number;
  xLow?: number;
  xHigh?: number;
  yLow?: number;
  yHigh?: number;
}

/** A connected line through points (a λ family, a churn-budget search), in `order`. */
export interface FrontierPoint {
  line: string;
  order: number;
  x: number;
  y: number;
  label: string;
}

export interface PlaneInput {
  title: string;
  xTitle: string;
  yTitle: string;
  methods: string[];
  seeds: PlanePoint[];
  means: PlanePoint[];
  frontier: FrontierPoint[];
}

/** Accuracy against churn (or NFR): faint seeds, method means with CI bars in both directions, λ families joined. */
export function planeSpec(p: PlaneInput): TopLevelSpec {
  const color = { field: 'method', type: 'nominal', title: 'method', scale: { domain: p.methods, scheme: 'tableau10' } } as const;
  const x = (field: string) => ({ field, type: 'quantitative', title: p.xTitle, scale: { zero: false, nice: true } }) as const;
  const y = (field: string) => ({ field, type: 'quantitative', title: p.yTitle, scale: { zero: false, nice: true } }) as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: p.title,
    width: 440,
    height: 300,
    config,
    layer: [
      {
        data: { values: p.frontier },
        mark: { type: 'line', color: '#52606d', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: x('x'), y: y('y'), detail: { field: 'line', type: 'nominal' }, order: { field: 'order', type: 'quantitative' } },
      },
      {
        data: { values: p.seeds },
        mark: { type: 'point', filled: true, size: 28, opacity: 0.35 },
        encoding: { x: x('x'), y: y('y'), color },
      },
      {
        data: { values: p.means.filter((m) => m.xLow !== undefined) },
        mark: { type: 'rule', strokeWidth: 1.6 },
        encoding: { x: x('xLow'), x2: { field: 'xHigh' }, y: y('y'), color },
      },
      {
        data: { values: p.means.filter((m) => m.yLow !== undefined) },
        mark: { type: 'rule', strokeWidth: 1.6 },
        encoding: { y: y('yLow'), y2: { field: 'yHigh' }, x: x('x'), color },
      },
      {
        data: { values: p.means },
        mark: { type: 'point', filled: true, size: 110, opacity: 1, stroke: 'white', strokeWidth: 1 },
        encoding: { x: x('x'), y: y('y'), color, shape: { value: 'circle' } },
      },
    ],
  } as TopLevelSpec;
}

/** The flip matrix: how many examples moved from old class (row) to new class (column); the diagonal (unchanged) is left out. */
export function flipMatrixSpec(classNames: string[], matrix: number[][]): TopLevelSpec {
  const cells: { old: string; new: string; count: number }[] = [];
  matrix.forEach((row, a) => row.forEach((count, b) => a !== b && count > 0 && cells.push({ old: classNames[a], new: classNames[b], count })));
  const K = classNames.length;
  const cell = Math.max(12, Math.min(34, Math.floor(460 / Math.max(K, 1))));
  const axis = { field: '', type: 'nominal', sort: classNames, scale: { domain: classNames } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: cell * K,
    height: cell * K,
    config: { ...config, view: { stroke: '#cbd2d9' }, axis: { ...config.axis, grid: false } },
    data: { values: cells },
    encoding: {
      x: { ...axis, field: 'new', title: 'new model predicts', axis: { orient: 'top', labelAngle: 0, labelLimit: 60 } },
      y: { ...axis, field: 'old', title: 'old model predicted', axis: { labelLimit: 90 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: { color: { field: 'count', type: 'quantitative', title: 'examples', scale: { scheme: 'orangered' } } },
      },
      ...(K <= 16
        ? [{ mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { value: '#1f2933' } } }]
        : []),
    ],
  } as TopLevelSpec;
}

/** Per true class: negative flips below the axis, positive flips above. */
export function perClassFlipsSpec(rows: { className: string; negativeFlips: number; positiveFlips: number }[]): TopLevelSpec {
  const values = rows.flatMap((r) => [
    { cls: r.className, kind: 'negative flips', count: -r.negativeFlips },
    { cls: r.className, kind: 'positive flips', count: r.positiveFlips },
  ]);
  const classes = rows.map((r) => r.className);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: Math.max(360, Math.min(900, classes.length * 20)),
    height: 220,
    config,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'cls', type: 'nominal', sort: classes, scale: { domain: classes }, title: 'true class', axis: { labelAngle: 0, labelLimit: 70 } },
      y: { field: 'count', type: 'quantitative', title: '← negative · positive → (examples)', stack: null },
      color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['negative flips', 'positive flips'], range: [FLIP_COLORS.negative, FLIP_COLORS.positive] }, legend: { orient: 'top' } },
    },
  } as TopLevelSpec;
}

/** A quantity's distribution among negative flips against all examples, as shares per bin (same bins). */
export function distributionSpec(title: string, q: QuantityAnalysis): TopLevelSpec {
  const groups = [
    ['all examples', q.all],
    ['negative flips', q.negativeFlips],
  ] as const;
  const values = groups.flatMap(([group, d]) =>
    d.histogram.map((c, b) => ({ group, start: q.edges[b], end: q.edges[b + 1], share: d.n ? c / d.n : 0 })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 290,
    height: 160,
    config,
    data: { values },
    mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: null, bin: { binned: true } },
      x2: { field: 'end' },
      y: { field: 'share', type: 'quantitative', title: 'share of group', stack: null, axis: { format: '.0%' } },
      color: { field: 'group', type: 'nominal', title: null, scale: { domain: groups.map((g) => g[0]), range: [FLIP_COLORS.all, FLIP_COLORS.negative] }, legend: { orient: 'top' } },
    },
  } as TopLevelSpec;
}

/** Points with error bars: one row per label (e.g. transfer arms' test accuracy, mean ± t-interval). */
export function pointsWithIntervalsSpec(title: string, xTitle: string, rows: { label: string; value: number; low?: number; high?: number }[]): TopLevelSpec {
  const labels = rows.map((r) => r.label);
  const y = { field: 'label', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 240 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: Math.max(80, rows.length * 34),
    config,
    data: { values: rows },
    layer: [
      { transform: [{ filter: 'isValid(datum.low)' }], mark: { type: 'rule', color: '#52606d', strokeWidth: 2 }, encoding: { y, x: { field: 'low', type: 'quantitative', title: xTitle, scale: { zero: false, nice: true } }, x2: { field: 'high' } } },
      { mark: { type: 'point', filled: true, size: 120, color: '#2f5bea' }, encoding: { y, x: { field: 'value', type: 'quantitative' } } },
      { mark: { type: 'text', dy: -13, fontSize: 11, color: '#1f2933' }, encoding: { y, x: { field: 'value', type: 'quantitative' }, text: { field: 'value', type: 'quantitative', format: '.2f' } } },
    ],
  } as TopLevelSpec;
}

/** One slice's NFR with its interval, for {@link sliceNfrSpec}. */
export interface SliceNfrPoint {
  label: string;
  n: number;
  nfr: number;
  low: number;
  high: number;
  /** Below the minimum slice size: drawn grey. */
  small: boolean;
}

/** NFR per slice with its bootstrap interval (one row per slice, in the given order); the whole data's NFR (grey) and a gate's limit (red) as dashed vertical lines. */
export function sliceNfrSpec(title: string, rows: SliceNfrPoint[], overall: number, limit?: number): TopLevelSpec {
  const labels = rows.map((r) => r.label);
  const values = rows.map((r) => ({ ...r, group: r.small ? 'small slice' : limit !== undefined && r.nfr > limit ? 'above the limit' : 'slice' }));
  const y = { field: 'label', type: 'nominal', sort: labels, scale: { domain: labels }, title: null, axis: { labelLimit: 360 } } as const;
  const x = { type: 'quantitative', title: 'negative flip rate (dashed: all examples' + (limit !== undefined ? '; red: the limit)' : ')'), axis: { format: '.1%' }, scale: { zero: true, nice: true } } as const;
  const groups = limit !== undefined ? ['slice', 'above the limit', 'small slice'] : ['slice', 'small slice'];
  const color = { field: 'group', type: 'nominal', title: null, scale: { domain: groups, range: groups.map((g) => (g === 'slice' ? '#2f5bea' : g === 'small slice' ? '#9aa5b1' : FLIP_COLORS.negative)) } } as const;
  const line = (at: number, stroke: string) => ({ data: { values: [{ at }] }, mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5, color: stroke }, encoding: { x: { ...x, field: 'at' } } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: Math.max(60, rows.length * 20),
    config,
    layer: [
      line(overall, '#52606d'),
      ...(limit !== undefined ? [line(limit, FLIP_COLORS.negative)] : []),
      { data: { values }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { y, x: { ...x, field: 'low' }, x2: { field: 'high' }, color: { ...color, legend: { orient: 'top' } } } },
      { data: { values }, mark: { type: 'point', filled: true, size: 70, opacity: 1 }, encoding: { y, x: { ...x, field: 'nfr' }, color: { ...color, legend: { orient: 'top' } } } },
    ],
  } as TopLevelSpec;
}
