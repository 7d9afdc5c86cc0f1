/**
 * readCsvBlocks (src/data/csv.ts): a CSV read a block of rows at a time gives, block by block,
 * what loadCsv gives for the whole file once a fitted preprocessing is applied — the same
 * features bit for bit, labels and lines — and a bad cell in a late block the same message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv, readCsvBlocks } from '../../src/data/csv.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import type { RawTabular } from '../../src/data/types.js';
import { tabularColumns } from '../../src/data/columns.js';

/**
 * Rows of ~36 bytes (60,000: about two of the reader's 1 MiB chunks): numbers with missing
 * markers, a category, a zip-code-like column that is all digits until row 50,000 and then has
 * letters (a column of numbers in the first blocks, text in the file: declared categorical when
 * the model was trained), a date, a label.
 */
function table(rows: number, bad?: { row: number }): string {
  const lines = ['x,y,cat,zip,day,label'];
  for (let i = 0; i < rows; i++) {
    const x = i % 97 === 0 ? '' : ((i * 7919) % 1000 / 37).toFixed(3);
    const y = bad && i === bad.row ? 'abc' : i % 89 === 0 ? 'NA' : String((i * 31) % 113 - 50);
    const zip = i < 50_000 ? String(10_000 + ((i * 13) % 900)).padStart(6, '0') : `Z${i % 50}`;
    const day = `2024-0${1 + (i % 9)}-1${i % 10}`;
    lines.push([x, y, `c${i % 23}`, zip, day, `k${(i * 17) % 5}`].join(','));
  }
  return lines.join('\n') + '\n';
}

const concat = (parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

test('a CSV read in blocks gives, after a fitted preprocessing, the whole file\'s features, labels and lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-blocks-'));
  try {
    for (const [name, bytes] of [['t.csv', Buffer.from(table(60_000))], ['t.csv.gz', gzipSync(table(60_000))]] as const) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      // trained with zip categorical; the data to predict comes without that hint
      const spec = fitPreprocessing(await loadCsv(file, { labelColumn: 'label', categorical: ['zip'] }));
      const whole = await loadCsv(file, { labelColumn: 'label' });
      const expected = applyPreprocessing(spec, whole);
      const features: Float32Array[] = [];
      const labels: string[] = [];
      const origins: number[] = [];
      const sizes: number[] = [];
      let zipNumericBlocks = 0;
      const rows = await readCsvBlocks(file, { labelColumn: 'label', blockRows: 4_000 }, async (block) => {
        const ds = applyPreprocessing(spec, block);
        features.push(ds.features);
        labels.push(...block.labels);
        origins.push(...(block as RawTabular).origins!);
        sizes.push(block.labels.length);
        if (tabularColumns(block)[block.columns.indexOf('zip')].kind === 'numeric') zipNumericBlocks++;
      });
      assert.equal(rows, 60_000, name);
      assert.ok(sizes.length >= 2, `${name}: ${sizes.length} blocks`);
      // every block but the last holds at least blockRows rows, and at most that plus one chunk's
      for (const s of sizes.slice(0, -1)) assert.ok(s >= 4_000 && s < 4_000 + 40_000, `${name}: block of ${s} rows`);
      assert.ok(zipNumericBlocks >= 1, `${name}: the zip column should be numbers in an early block`);
      assert.deepEqual(labels, whole.labels, name);
      assert.deepEqual(origins, whole.origins, name);
      assert.deepEqual(concat(features), expected.features, `${name}: features differ`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad cell in a late block is named as in the whole file; an empty file and a header-only file as loadCsv names them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-blocks-'));
  try {
    const good = join(dir, 'good.csv');
    writeFileSync(good, table(40_000));
    const spec = fitPreprocessing(await loadCsv(good, { labelColumn: 'label' }));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, table(40_000, { row: 39_000 }));
    const wholeError = await (async () => applyPreprocessing(spec, await loadCsv(bad, { labelColumn: 'label' })))().then(() => undefined, (e: Error) => e.message);
    assert.ok(wholeError && /line 39002/.test(wholeError), String(wholeError));
    let blocks = 0;
    await assert.rejects(
      readCsvBlocks(bad, { labelColumn: 'label', blockRows: 4_000 }, async (block) => {
        blocks++;
        applyPreprocessing(spec, block);
      }),
      (e: Error) => e.message === wholeError,
    );
    assert.ok(blocks >= 2, `the error should come from a late block (${blocks})`);
    for (const [text, message] of [['', /is empty/], ['a,b,label\n', /has a header row but no data rows/]] as const) {
      const f = join(dir, 'x.csv');
      writeFileSync(f, text);
      await assert.rejects(loadCsv(f), message);
      await assert.rejects(readCsvBlocks(f, { blockRows: 10 }, async () => {}), message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
