/**
 * The slices and discovered-regions sections of the comparison and gate reports in headless
 * Chromium (Debian's `chromium`, driven by playwright-core): held-out letter rows with a
 * `region` column (one of its values an HTML injection), the two PyTorch fixture models'
 * predictions, the newer one corrupted where region = east and x.box > 4. Charts drawn,
 * tables sortable by a click, the confirmed region shown, the gate's failing slice
 * highlighted, the hostile value inert, no console errors or network requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { runCliHere } from '../helpers/cli.js';
import { CHROMIUM, openReport as open } from '../helpers/browser.js';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { argmaxRows } from '../../src/models/predict.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import { parseCsvText } from '../../src/data/csv.js';
import { Rng } from '../../src/util/rng.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const REGIONS = ['east', 'west', HOSTILE];

async function writeComparison(dir: string): Promise<{ test: string; old: string; new: string }> {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  const rows = lines.slice(16001, 19001);
  const rng = new Rng('html-regions');
  const region = rows.map(() => REGIONS[rng.int(3)]);
  const text = [`${lines[0]},"region"`, ...rows.map((l, i) => `${l},"${region[i]}"`)].join('\n') + '\n';
  const test = join(dir, 'test.csv');
  writeFileSync(test, text);
  const raw = parseCsvText(text, 'test.csv', { labelColumn: 'lettr' });
  const xBox = raw.columns.indexOf('x.box');
  const plant = new Rng('html-plant');
  const out: string[] = [];
  for (const [k, model] of ['letter-mlp-v1.onnx', 'letter-mlp-v2.onnx'].entries()) {
    const ort = await loadOnnxModel(fileURLToPath(new URL(`../fixtures/onnx/${model}`, import.meta.url)));
    const ds = applyPreprocessing(ort.meta.preprocessing, raw);
    const pred = argmaxRows(await onnxLogits(ort, ds), 26);
    await ort.session.release();
    if (k === 1) pred.forEach((p, i) => (pred[i] = region[i] === 'east' && Number(raw.rows[i][xBox]) > 4 && plant.next() < 0.4 ? (ds.labels[i] + 1) % 26 : p));
    const file = join(dir, model.replace('.onnx', '.csv'));
    writeFileSync(file, 'prediction\n' + Array.from(pred, (c) => ort.meta.classNames[c]).join('\n') + '\n');
    out.push(file);
  }
  return { test, old: out[0], new: out[1] };
}


/** The cells of a table's body rows, as shown. */
const cells = (page: Page, table: string) => page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.children, (td) => (td as HTMLElement).innerText)));
const percent = (s: string) => Number(s.split('%')[0]);

test('slices and discovered regions in headless Chromium: charts, sortable tables, the failing slice, hostile values inert', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium or set CHROMIUM_PATH`);
  const dir = mkdtempSync(join(tmpdir(), 'distillery-slices-html-'));
  await initEngine();
  const data = await writeComparison(dir);
  const pair = ['--old', data.old, '--new', data.new, '--data', data.test, '--label', 'lettr', '--resamples', '200'];
  const slicing = ['--slice-by', 'region,x.box:bins=4,region*x.box:cuts=[4]', '--find-regions'];
  const cmp = await runCliHere(['-q', 'compare', ...pair, ...slicing, '--json', join(dir, 'cmp.json')]);
  assert.equal(cmp.code, 0, cmp.stderr);
  const gate = await runCliHere(['-q', 'gate', ...pair, ...slicing, '--max-nfr', '0.2', '--max-slice-nfr', '0.2', '--json', join(dir, 'gate.json')]);
  assert.equal(gate.code, 3, gate.stdout + gate.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
  const html = readFileSync(join(dir, 'cmp.html'), 'utf8');
  assert.ok(!html.includes(HOSTILE), 'the hostile region value never appears unescaped');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const { page, problems } = await open(browser, join(dir, 'cmp.html'));
    // one chart per slicing, each with a mark per slice
    const charts = await page.$$eval('#slices figure.plot svg', (svgs) => svgs.map((s) => s.querySelectorAll('path').length));
    assert.equal(charts.length, 3);
    json.slices.slicings.forEach((s: { slices: unknown[] }, k: number) => assert.ok(charts[k] >= 2 * s.slices.length, `chart ${k + 1} draws every slice (${charts[k]} paths)`));
    // the region table: all examples, then east, west and the hostile value, shown as text
    let rows = await cells(page, '#slices-1');
    assert.deepEqual(rows.map((r) => r[0]), ['all examples', ...json.slices.slicings[0].slices.map((s: { label: string }) => s.label)]);
    assert.ok(rows.some((r) => r[0] === `region = ${HOSTILE}`), 'the hostile value is a slice, shown as text');
    assert.ok((await page.innerText('#slices')).includes(HOSTILE));
    assert.equal(await page.locator('img').count(), 0, 'no <img> element was created');
    // sort the crossing by NFR: a click sorts descending, another ascending; the planted slice comes first
    const nfrCol = (await page.$$eval('#slices-3 thead th', (ths) => ths.map((th) => (th as HTMLElement).innerText))).findIndex((h) => h.startsWith('NFR'));
    await page.click(`#slices-3 thead th:nth-child(${nfrCol + 1})`);
    rows = await cells(page, '#slices-3');
    const down = rows.map((r) => percent(r[nfrCol]));
    assert.deepEqual(down, [...down].sort((a, b) => b - a));
    assert.equal(rows[0][0], 'region = east and x.box > 4');
    assert.equal(await page.getAttribute(`#slices-3 thead th:nth-child(${nfrCol + 1})`, 'aria-sort'), 'descending');
    await page.click(`#slices-3 thead th:nth-child(${nfrCol + 1})`);
    const up = (await cells(page, '#slices-3')).map((r) => percent(r[nfrCol]));
    assert.deepEqual(up, [...up].sort((a, b) => a - b));
    // sort by slice name (text) and by size (number)
    await page.click('#slices-2 thead th:nth-child(2)');
    const sizes = (await cells(page, '#slices-2')).map((r) => Number(r[1]));
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    assert.equal(sizes[0], 3000, 'all examples is the largest');
    // discovered regions: the confirmed one first, about region and x.box
    const regions = await cells(page, '#region-table');
    assert.equal(regions.length, json.regions.regions.length);
    const confirmed = regions.filter((r) => r[r.length - 1] === 'yes');
    assert.ok(confirmed.some((r) => /region = east/.test(r[1]) && /x\.box/.test(r[1])), `a confirmed region on region = east and x.box: ${regions.map((r) => r[1]).join('; ')}`);
    assert.deepEqual(regions.slice(0, confirmed.length), confirmed, 'the confirmed regions first');
    // sorted by adjusted p, ascending after two clicks
    await page.click('#region-table thead th:nth-child(9)');
    await page.click('#region-table thead th:nth-child(9)');
    const ps = (await cells(page, '#region-table')).map((r) => (r[8].startsWith('<') ? 0 : Number(r[8])));
    assert.deepEqual(ps, [...ps].sort((a, b) => a - b));
    assert.match(await page.innerText('#regions .intro'), /Holm \(family-wise error\) at α = 0\.05/);
    await page.screenshot({ path: join(dir, 'slices.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();

    // the gate: the banner names the slice, its row is highlighted, the chart has the limit
    const g = await open(browser, join(dir, 'gate.html'));
    assert.match(await g.page.innerText('#verdict'), /Release blocked: region = east and x\.box > 4 \(\d+ examples\): NFR/);
    const highlighted = await g.page.$$eval('#slices-3 tbody tr.hl', (trs) => trs.map((tr) => (tr.children[0] as HTMLElement).innerText));
    assert.deepEqual(highlighted, ['region = east and x.box > 4']);
    assert.match(await g.page.innerText('#gate'), /region = east and x\.box > 4 .*FAIL/);
    assert.deepEqual(g.problems, []);
    await g.page.close();
  } finally {
    await browser.close();
  }
  t.diagnostic(`screenshot: ${join(dir, 'slices.png')}`);
});
