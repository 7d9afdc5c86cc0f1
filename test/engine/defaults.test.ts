/**
 * What importing Distillery does to the process, and what happens without initEngine:
 * no tfjs flag is set (tfjs's warnings stay on in a user's code), gradients are registered
 * (training works on tfjs-core alone), and training on tfjs's slow cpu backend without
 * initEngine says so in one line, once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

function child(code: string): { out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DISTILLERY_ENGINE: '', DISTILLERY_THREADS: '' },
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return { out: r.stdout, err: r.stderr };
}

const fitTwice = `
  const d = await import('./src/index.ts');
  const tf = await import('@tensorflow/tfjs-core');
  const raw = { kind: 'tabular', source: 'inline', columns: ['a', 'b'], labelColumn: 'y',
    rows: Array.from({ length: 64 }, (_, i) => [String(i % 7), String((i * 3) % 5)]),
    labels: Array.from({ length: 64 }, (_, i) => (i % 7 > 3 ? 'p' : 'q')) };
  const spec = d.fitPreprocessing(raw);
  const train = d.applyPreprocessing(spec, raw);
  const fit = () => d.fitModel({ architecture: { kind: 'mlp', hidden: [4] }, preprocessing: spec, train,
    objective: d.crossEntropyObjective(), seed: 1, training: { epochs: 1, batchSize: 16, optimizer: 'adam', learningRate: 0.01, patience: 0 } });
  process.stdout.write('PROD=' + tf.env().getBool('PROD') + '\\n');
  INIT
  await fit();
  await fit();
  process.stdout.write('done backend=' + tf.getBackend() + '\\n');`;

test('importing sets no tfjs flag; training without initEngine on the cpu backend warns once, in one line', () => {
  const { out, err } = child(fitTwice.replace('INIT', ''));
  assert.match(out, /PROD=false/);
  assert.match(out, /done backend=cpu/);
  const lines = err.split('\n').filter((l) => l.startsWith('distillery:'));
  assert.deepEqual(lines, ["distillery: training on tfjs's cpu backend (about 10× slower): call initEngine() first to use the native engine"]);
});

test('after initEngine, training prints nothing, even on the cpu engine chosen explicitly', () => {
  const { out, err } = child(fitTwice.replace('INIT', "await d.initEngine({ backend: 'cpu' });"));
  assert.match(out, /done backend=cpu/);
  assert.equal(err.trim(), '', 'no distillery line and no tfjs banner');
});
