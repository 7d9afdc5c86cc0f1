import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareModels, meanCI } from '../../src/metrics/index.js';
import {
  formatCI,
  formatMeanCI,
  formatPValue,
  formatRate,
  renderComparison,
  renderMarkdownTable,
  renderTextTable,
} from '../../src/report/table.js';
import { randomPredictions } from '../metrics/helpers.js';

test('formatRate, formatCI, formatMeanCI, formatPValue', () => {
  assert.equal(formatRate(0.12345), '12.35%');
  assert.equal(formatRate(1), '100.00%');
  assert.equal(formatRate(null), 'n/a');
  assert.equal(formatRate(NaN), 'n/a');
  assert.equal(formatRate(0.8333, { percent: false }), '0.83');
  assert.equal(formatRate(0.012, { signed: true }), '+1.20%');
  assert.equal(formatRate(-0.012, { signed: true }), '-1.20%');
  assert.equal(formatCI({ estimate: 0.1234, low: 0.1102, high: 0.1371 }), '12.34% [11.02, 13.71]');
  assert.equal(formatCI({ estimate: 0.8333, low: 0.6, high: 1.1 }, { percent: false }), '0.83 [0.60, 1.10]');
  assert.equal(formatCI(null), 'n/a');
  // mean of [0.1, 0.12, 0.14] = 0.12, s = 0.02, half-width = 4.3027 · 0.02 / √3 = 0.049683
  assert.equal(formatMeanCI(meanCI([0.1, 0.12, 0.14])), '12.00% ± 4.97');
  assert.equal(formatMeanCI(meanCI([0.5])), '50.00%');
  assert.equal(formatMeanCI(meanCI([3, 5]), { percent: false, decimals: 1 }), '4.0 ± 12.7');
  assert.equal(formatPValue(0.0385742), '0.0386');
  assert.equal(formatPValue(1e-9), '< 0.001');
  assert.equal(formatPValue(1), '1.00');
});

test('renderTextTable aligns columns', () => {
  const text = renderTextTable({ headers: ['Name', 'Value'], rows: [['a', '1.5'], ['longer', '10.25']] });
  assert.equal(text, ['Name    Value', '------  -----', 'a         1.5', 'longer  10.25'].join('\n'));
  const left = renderTextTable({ headers: ['x', 'y'], rows: [['1', 'ab'], ['22']], align: ['right', 'left'] });
  assert.equal(left, [' x  y', '--  --', ' 1  ab', '22'].join('\n'));
});

test('renderMarkdownTable escapes pipes and marks right-aligned columns', () => {
  const md = renderMarkdownTable({ headers: ['Class', 'n'], rows: [['a|b', '3']] });
  assert.equal(md, ['| Class | n |', '| --- | ---: |', '| a\\|b | 3 |'].join('\n'));
});

test('renderComparison: summary and per-class tables', () => {
  const { labels, predOld, predNew } = randomPredictions(600, 12, 'render');
  const classNames = Array.from({ length: 12 }, (_, k) => `class-${k}`);
  const report = compareModels({ labels, predOld, predNew, numClasses: 12, classNames }, { seed: 1, resamples: 100 });
  const { text, markdown } = renderComparison(report, { topClasses: 5 });
  for (const label of ['Accuracy (old)', 'Churn', 'NFR (bad churn)', 'PFR (good churn)', 'NFI', 'PFI', 'Relative NFR']) {
    assert.ok(text.includes(label), label);
    assert.ok(markdown.includes(`| ${label} |`), label);
  }
  assert.ok(!text.includes('Prediction difference'), 'no PD row without probabilities');
  assert.ok(text.includes(formatCI(report.metrics.churn)));
  assert.ok(text.includes('McNemar'));
  assert.ok(markdown.includes('### ') && markdown.includes('| --- |'));
  // per-class table: the 5 classes with most negative flips, most first
  const expected = [...report.perClass]
    .sort((a, b) => b.negativeFlips - a.negativeFlips || a.classIndex - b.classIndex)
    .slice(0, 5);
  const rows = text.split('\n').filter((l) => l.startsWith('class-'));
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), expected.map((c) => c.className));
  assert.deepEqual(rows.map((l) => Number(l.split(/\s+/)[2])), expected.map((c) => c.negativeFlips));
});
