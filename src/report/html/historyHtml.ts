/** The HTML report of a release history (`compare --chain`): accuracy per version, pairwise churn and NFR as matrices. */
import type { TopLevelSpec } from 'vega-lite';
import type { ReleaseHistory } from '../../metrics/releaseHistory.js';
import { renderVegaLiteSvg } from '../plot.js';
import { formatRate, type Table } from '../table.js';
import { h, htmlTable, inlineSvg, renderPage } from './page.js';

/** Rows: old version, columns: new version; the text of each cell in percent. */
export function historyTable(history: ReleaseHistory, key: 'churn' | 'nfr' | 'pfr'): Table {
  return {
    headers: ['old \\ new', ...history.versions],
    rows: history.versions.map((v, i) => [v, ...history.versions.map((_, j) => (i === j ? '—' : formatRate(history[key][i][j])))]),
  };
}

function matrixSpec(history: ReleaseHistory, key: 'churn' | 'nfr', title: string): TopLevelSpec {
  const v = history.versions;
  const values = v.flatMap((a, i) => v.map((b, j) => ({ old: a, new: b, rate: i === j ? null : history[key][i][j] * 100 }))).filter((c) => c.rate !== null);
  const axis = { type: 'nominal', sort: v, scale: { domain: v }, axis: { labelLimit: 140 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: Math.max(160, 48 * v.length),
    height: Math.max(160, 48 * v.length),
    config: { font: 'system-ui, sans-serif', title: { anchor: 'start', fontSize: 13 } },
    data: { values },
    encoding: { x: { ...axis, field: 'new', title: 'new version', axis: { ...axis.axis, orient: 'top', labelAngle: -30, labelLimit: 160 } }, y: { ...axis, field: 'old', title: 'old version' } },
    layer: [
      { mark: { type: 'rect', stroke: 'white' }, encoding: { color: { field: 'rate', type: 'quantitative', title: '%', scale: { scheme: key === 'nfr' ? 'reds' : 'blues' } } } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'rate', type: 'quantitative', format: '.1f' }, color: { value: '#1f2933' } } },
    ],
  } as TopLevelSpec;
}

export async function renderHistoryHtml(history: ReleaseHistory, meta: { data: string; libraryVersion: string; createdAt: string }): Promise<string> {
  const [churn, nfr] = await Promise.all([renderVegaLiteSvg(matrixSpec(history, 'churn', 'Churn (%)')), renderVegaLiteSvg(matrixSpec(history, 'nfr', 'Negative flip rate (%)'))]);
  const acc: Table = { headers: ['version', 'accuracy', 'churn vs previous', 'NFR vs previous'], rows: history.versions.map((v, i) => [v, formatRate(history.accuracy[i]), i ? formatRate(history.churn[i - 1][i]) : '—', i ? formatRate(history.nfr[i - 1][i]) : '—']) };
  return renderPage({
    kind: 'Release history',
    title: history.versions.join(' → '),
    meta: [`on ${meta.data}: ${history.n} examples`, `Distillery ${meta.libraryVersion} · ${meta.createdAt}`],
    cards: history.versions.map((v, i) => ({ label: v, value: formatRate(history.accuracy[i]), detail: i ? `NFR vs previous ${formatRate(history.nfr[i - 1][i])}` : 'accuracy' })),
    sections: [
      { id: 'versions', title: 'Versions', intro: 'Accuracy of each version, and churn and negative flips against the version before it.', body: htmlTable(acc) },
      { id: 'pairs', title: 'Every pair', intro: 'Row: the version taken as old; column: the version taken as new.', body: h`<div class="grid2">${inlineSvg(churn, 'pairwise churn')}${inlineSvg(nfr, 'pairwise NFR')}</div><h3>Churn</h3>${htmlTable(historyTable(history, 'churn'))}<h3>NFR</h3>${htmlTable(historyTable(history, 'nfr'))}` },
    ],
  });
}
