/**
 * Tables of a comparison by slice and of discovered regions, for the terminal, Markdown and
 * the HTML report (which adds sorting and a chart). Columns come from SLICE_METRICS and
 * REGION_DEFAULTS, so every output names the same numbers the same way.
 */
import type { Interval } from '../metrics/bootstrap.js';
import type { RegionDiscovery } from '../metrics/regions.js';
import { SLICE_METRICS, type SliceComparison, type SliceMetricKey, type SliceStats, type Slicing } from '../metrics/slices.js';
import { formatCI, formatPValue, formatRate, MISSING, renderMarkdownTable, renderTextTable, type Table } from './table.js';

/** Metrics shown with their interval in the tables (the others as estimates; the JSON report has every interval). */
const WITH_INTERVAL: ReadonlySet<SliceMetricKey> = new Set(['nfr', 'errorIncrease']);

function cell(s: SliceStats, key: SliceMetricKey): string {
  const def = SLICE_METRICS.find((m) => m.key === key)!;
  const v: Interval | null = s.metrics[key];
  const fmt = { percent: def.percent, signed: def.signed };
  return WITH_INTERVAL.has(key) ? formatCI(v, fmt) : formatRate(v?.estimate, fmt);
}

/** The headers of a slice table (the note column says which slices are small). */
export function sliceTableHeaders(level: number): string[] {
  const ci = `${Math.round(level * 1000) / 10}% CI`;
  return ['Slice', 'n', 'Neg. flips', ...SLICE_METRICS.map((m) => (WITH_INTERVAL.has(m.key) ? `${m.label} [${ci}]` : m.label)), 'Note'];
}

/** One row of a slice table. */
export function sliceRow(s: SliceStats, minSize: number): string[] {
  return [s.label, String(s.n), String(s.counts.negativeFlips), ...SLICE_METRICS.map((m) => cell(s, m.key)), s.small ? `small (< ${minSize})` : ''];
}

/** Every slice of a slicing, with the whole data as the first row. */
export function sliceTable(slicing: Slicing, comparison: SliceComparison): Table {
  const headers = sliceTableHeaders(comparison.level);
  return {
    headers,
    rows: [sliceRow(comparison.overall, comparison.minSize), ...slicing.slices.map((s) => sliceRow(s, comparison.minSize))],
    align: headers.map((_, j) => (j === 0 || j === headers.length - 1 ? 'left' : 'right')),
  };
}

/** Title of a slicing's table. */
export function slicingTitle(slicing: Slicing, comparison: SliceComparison): string {
  const small = slicing.slices.filter((s) => s.small).length;
  return `By ${slicing.spec}: ${slicing.slices.length} slices${small ? `, ${small} small (< ${comparison.minSize} examples)` : ''}`;
}

/** The settings and error control of a region search, in one sentence. */
export function regionMethodLine(d: RegionDiscovery): string {
  const s = d.settings;
  const correction = s.correction === 'holm' ? 'Holm (family-wise error)' : 'Benjamini–Hochberg (false-discovery rate)';
  return (
    `Regions of up to ${s.maxConditions} conditions on ${s.columns.length} column(s), found by a CART tree on a random half (${d.fitRows} rows, NFR ${formatRate(d.fitNfr)}) ` +
    `and tested once on the other (${d.confirmRows} rows, NFR ${formatRate(d.confirmNfr)}): confirmed when its NFR is more than ${s.minLift}× the rest's and it breaks more than it fixes, ` +
    `p-values adjusted over the ${d.regions.length} candidate(s) by ${correction} at α = ${s.alpha}.`
  );
}

/** The regions tested, confirmed first. */
export function regionTable(d: RegionDiscovery): Table {
  const rows = d.regions.map((r, k) => [
    String(k + 1),
    r.rule + (r.refines !== null ? ` (narrows ${r.refines + 1})` : ''),
    `${r.fit.n} / ${r.confirm.n}`,
    formatRate(r.fit.nfr),
    formatCI(r.confirmNfr),
    formatRate(r.confirm.nfrOutside),
    `${r.confirm.negativeFlips} / ${r.confirm.positiveFlips}`,
    r.confirm.lift === null ? MISSING : `${r.confirm.lift.toFixed(1)}×`,
    formatPValue(r.adjustedP),
    r.confirmed ? 'yes' : 'no',
  ]);
  return {
    headers: ['#', 'Region', 'n (fit / confirm)', 'NFR fit', 'NFR confirm', 'NFR rest', 'Neg. / pos. flips', 'Lift', 'p (adjusted)', 'Confirmed'],
    rows,
    align: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  };
}

/** The slices and regions sections of the text and Markdown comparison reports. */
export function renderSlices(slices: SliceComparison | null | undefined, regions: RegionDiscovery | null | undefined): { text: string; markdown: string } {
  const text: string[] = [];
  const markdown: string[] = [];
  if (slices?.slicings.length) {
    const intro = `Slices (percentile bootstrap within each slice, ${slices.resamples} resamples; slices under ${slices.minSize} examples are marked small)`;
    text.push('', intro);
    markdown.push('', `#### ${intro}`);
    for (const slicing of slices.slicings) {
      const table = sliceTable(slicing, slices);
      text.push('', slicingTitle(slicing, slices), '', renderTextTable(table));
      markdown.push('', `##### ${slicingTitle(slicing, slices)}`, '', renderMarkdownTable(table));
    }
  }
  if (regions) {
    const confirmed = regions.regions.filter((r) => r.confirmed).length;
    const title = `Discovered regions: ${confirmed} confirmed of ${regions.regions.length} tested`;
    const line = regionMethodLine(regions);
    text.push('', title, line);
    markdown.push('', `#### ${title}`, '', line);
    if (regions.regions.length) {
      text.push('', renderTextTable(regionTable(regions)));
      markdown.push('', renderMarkdownTable(regionTable(regions)));
    }
  }
  return { text: text.length ? text.join('\n') + '\n' : '', markdown: markdown.length ? markdown.join('\n') + '\n' : '' };
}
