/**
 * The HTML reports in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core, which downloads nothing) opens the reports of a real comparison and gate
 * (the two PyTorch fixture models on held-out letter rows in which class "A" is renamed to
 * an HTML injection) and of a real three-method update run. No console or page errors; plots and
 * tables present and filled; filtering, sorting and paging change what is shown; the
 * hostile class name shows as text and runs nothing. Screenshots stay in the temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { runCliHere } from '../helpers/cli.js';
import { CHROMIUM, openReport as open } from '../helpers/browser.js';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { argmaxRows, logitsToProbs as softmax } from '../../src/models/predict.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import { parseCsvText } from '../../src/data/csv.js';
import { writePredictionsFile } from '../../src/cli/predictions.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

/**
 * Held-out letter rows with class "A" renamed to HOSTILE, and the predictions of the two
 * PyTorch fixture models on them as prediction CSVs (as `distillery predict` writes, the
 * class renamed the same way): a real comparison without training anything here.
 */
async function writeHostileComparison(dir: string): Promise<{ test: string; old: string; new: string }> {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  const text = [lines[0], ...lines.slice(16001, 16801)].join('\n') + '\n';
  const rename = (c: string) => (c === 'A' ? HOSTILE : c);
  const test = join(dir, 'test.csv');
  writeFileSync(test, text.replace(/^"A",/gm, `"${HOSTILE}",`));
  const out: string[] = [];
  for (const model of ['letter-mlp-v1.onnx', 'letter-mlp-v2.onnx']) {
    const ort = await loadOnnxModel(fileURLToPath(new URL(`../fixtures/onnx/${model}`, import.meta.url)));
    const ds = applyPreprocessing(ort.meta.preprocessing, parseCsvText(text, 'test.csv', { labelColumn: 'lettr' }));
    const probs = softmax(await onnxLogits(ort, ds), 26);
    await ort.session.release();
    const names = ort.meta.classNames.map(rename);
    const pred = argmaxRows(probs, 26);
    const file = join(dir, model.replace('.onnx', '.csv'));
    await writePredictionsFile(file, { source: file, predicted: Array.from(pred, (k) => names[k]), classNames: names, probs });
    out.push(file);
  }
  return { test, old: out[0], new: out[1] };
}

async function ok(args: string[]): Promise<void> {
  const r = await runCliHere(args);
  assert.equal(r.code, 0, `distillery ${args.join(' ')}: ${r.stderr}`);
}


const bodyRows = (page: Page) => page.$$eval('#flips tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => (td as HTMLElement).innerText)));

test('HTML reports in headless Chromium: filled, interactive, hostile class names inert', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`);
  const dir = mkdtempSync(join(tmpdir(), 'distillery-html-'));
  await initEngine();
  const data = await writeHostileComparison(dir);
  const pair = ['--old', data.old, '--new', data.new, '--data', data.test, '--label', 'lettr', '--resamples', '200'];
  await ok(['-q', 'compare', ...pair, '--json', join(dir, 'cmp.json')]);
  const gate = await runCliHere(['-q', 'gate', ...pair, '--max-nfr', '0', '--json', join(dir, 'gate.json')]);
  assert.equal(gate.code, 3, gate.stderr);
  const config = join(dir, 'tiny.yaml');
  writeFileSync(config, [
    'name: tiny-update', 'data: letter', 'testSize: 500', 'split: { initial: 300, validation: 100, newBatch: 300 }',
    'model: { kind: mlp, hidden: [16] }', 'training: { learningRate: 0.003, epochs: 5, patience: 3 }', 'seeds: [1]',
    'methods: [plain, { method: distill, lambda: 0.3 }, { method: distill, lambda: 0.7 }]', 'bootstrap: { resamples: 100 }', '',
  ].join('\n'));
  await ok(['-q', 'run', '--config', config, '--out', join(dir, 'run'), '--jobs', '1']);

  const cmp = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
  const hostileIndex = cmp.classNames.indexOf(HOSTILE);
  assert.ok(hostileIndex >= 0, 'the hostile class name is one of the classes');
  const html = readFileSync(join(dir, 'cmp.html'), 'utf8');
  assert.ok(!html.includes(HOSTILE), 'the raw class name never appears unescaped in the file');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|url\(https?:/i, 'nothing external');

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    // the comparison report
    const { page, problems } = await open(browser, join(dir, 'cmp.html'));
    const plots = await page.$$eval('figure.plot svg', (svgs) => svgs.map((s) => s.querySelectorAll('path, rect').length));
    assert.ok(plots.length >= 5, `flip matrix, per-class flips and three distributions: got ${plots.length} plots`);
    for (const marks of plots) assert.ok(marks > 5, 'every plot has marks');
    const total = cmp.flippedExamples.length;
    assert.equal(total, cmp.counts.changed);
    let rows = await bodyRows(page);
    assert.equal(rows.length, Math.min(25, total), 'first page of flipped examples');
    assert.match(await page.innerText('#flip-count'), new RegExp(`of ${total} `));

    // filter by kind: only negative flips, as many as the comparison counted
    await page.selectOption('#flip-kind', 'negative');
    rows = await bodyRows(page);
    assert.equal(rows.length, Math.min(25, cmp.counts.negativeFlips));
    for (const r of rows) assert.equal(r[1], 'negative flip');
    assert.match(await page.innerText('#flip-count'), new RegExp(`of ${cmp.counts.negativeFlips} `));
    await page.selectOption('#flip-kind', 'all');

    // filter by the hostile class: its name is shown as text
    await page.selectOption('#flip-class', String(hostileIndex));
    rows = await bodyRows(page);
    const inClass = cmp.flippedExamples.filter((e: { label: number }) => e.label === hostileIndex).length;
    assert.ok(inClass > 0, 'some examples of the renamed class flipped');
    assert.equal(rows.length, Math.min(25, inClass));
    for (const r of rows) assert.equal(r[2], HOSTILE);
    assert.equal(await page.locator('img').count(), 0, 'no <img> element was created');
    assert.ok((await page.innerText('body')).includes(HOSTILE));
    await page.selectOption('#flip-class', 'all');

    // sort by row number, both ways; the default order (logit distance) is different
    const before = (await bodyRows(page)).map((r) => Number(r[0]));
    await page.click('#flips th[data-key="0"]');
    const down = (await bodyRows(page)).map((r) => Number(r[0]));
    assert.deepEqual(down, [...down].sort((a, b) => b - a));
    await page.click('#flips th[data-key="0"]');
    const up = (await bodyRows(page)).map((r) => Number(r[0]));
    assert.deepEqual(up, [...up].sort((a, b) => a - b));
    assert.equal(up[0], cmp.flippedExamples[0].index + 1);
    assert.notDeepEqual(before, up);
    // paging
    await page.click('#flip-next');
    const second = (await bodyRows(page)).map((r) => Number(r[0]));
    assert.ok(second[0] > up[up.length - 1], 'page 2 continues the order');
    await page.click('#flip-prev');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(dir, 'comparison.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();

    // the gate report: the verdict banner
    const g = await open(browser, join(dir, 'gate.html'));
    assert.match(await g.page.innerText('#verdict'), /Release blocked: NFR/);
    await g.page.screenshot({ path: join(dir, 'gate.png') });
    assert.deepEqual(g.problems, []);
    await g.page.close();

    // the run report: planes with every method, tables filled
    const r = await open(browser, join(dir, 'run', 'report.html'));
    assert.equal(await r.page.locator('#tradeoff figure.plot svg').count(), 2);
    const legend = await r.page.$eval('#tradeoff figure.plot svg', (s) => s.textContent ?? '');
    for (const m of ['plain retrain', 'distill λ=0.3', 'distill λ=0.7']) assert.ok(legend.includes(m), `legend names ${m}`);
    assert.equal(await r.page.locator('#summary tbody tr').count(), 3);
    assert.equal(await r.page.locator('#seeds tbody tr').count(), 3);
    assert.match(await r.page.innerText('#setup pre'), /name: tiny-update/);
    await r.page.screenshot({ path: join(dir, 'run.png'), fullPage: true });
    assert.deepEqual(r.problems, []);
    await r.page.close();
  } finally {
    await browser.close();
  }
  // `distillery report` rebuilds the comparison page from its JSON
  rmSync(join(dir, 'cmp.html'));
  await ok(['report', join(dir, 'cmp.json')]);
  assert.match(readFileSync(join(dir, 'cmp.html'), 'utf8'), /^<!DOCTYPE html>\n<!-- distillery-report -->/);
  rmSync(join(dir, 'run'), { recursive: true, force: true });
  t.diagnostic(`screenshots: ${join(dir, 'comparison.png')}, ${join(dir, 'gate.png')}, ${join(dir, 'run.png')}`);
});
