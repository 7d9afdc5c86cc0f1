/**
 * The ONNX round trip on the command line, as a PyTorch team runs it: their CNN's ONNX file
 * (test/fixtures/onnx/fashion-cnn.onnx, NCHW input) is the base of a distillation update, the
 * update is exported back to ONNX with the original's input name and NCHW layout, and predict
 * gives the same probabilities from the model directory (tfjs) and from the exported file
 * (onnxruntime); an ensemble directory exports as one graph (or one member); a decision tree is
 * refused in one line. Runs the built CLI (bin/distillery.js on dist/; the refusals in this process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, runCliHere } from '../helpers/cli.js';
import { onnxProto } from '../../src/models/onnxProto.js';
const onnx = onnxProto();
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../../src/data/idx.js';
import { saveClassifier } from '../../src/models/classifier.js';
import { fitTree, oneHotTargets } from '../../src/models/tree.js';
import type { TreeMetadata } from '../../src/models/classifier.js';

const CNN = fileURLToPath(new URL('../fixtures/onnx/fashion-cnn.onnx', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Images [from, to) of a Fashion-MNIST split as an IDX pair "images,labels" (labels are the bytes 0–9). */
async function idxPair(split: 'train' | 'test', from: number, to: number, name: string): Promise<string> {
  const raw = await loadFashionMnist(split, { limit: to });
  const n = to - from;
  const header = (magic: number, dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  const images = join(dir, `${name}-images.idx`);
  const labels = join(dir, `${name}-labels.idx`);
  writeFileSync(images, Buffer.concat([header(0x803, [n, 28, 28]), Buffer.from(raw.pixels.subarray(from * 784, to * 784))]));
  writeFileSync(labels, Buffer.concat([header(0x801, [n]), Buffer.from(raw.labels.slice(from, to).map((c) => FASHION_MNIST_CLASSES.indexOf(c)))]));
  return `${images},${labels}`;
}

/** The fixture with the label bytes "0"–"9" as its class names (an IDX pair's labels). */
function baseOnnx(): string {
  const m = onnx.ModelProto.decode(readFileSync(CNN));
  const entry = m.metadataProps.find((p) => p.key === 'distillery.preprocessing')!;
  entry.value = JSON.stringify({ ...JSON.parse(entry.value!), classNames: FASHION_MNIST_CLASSES.map((_, i) => String(i)) });
  const file = join(dir, 'pytorch-cnn.onnx');
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return file;
}

/** The probability columns of a predictions CSV, row by row. */
function probabilities(file: string): number[][] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header.split(',').map((c, i) => [c, i] as const).filter(([c]) => c.replace(/"/g, '').startsWith('p:')).map(([, i]) => i);
  assert.equal(cols.length, 10, header);
  return lines.map((l) => cols.map((i) => Number(l.split(',')[i])));
}

function assertSamePredictions(a: string, b: string, what: string): number {
  const p = probabilities(a);
  const q = probabilities(b);
  assert.equal(p.length, q.length);
  let worst = 0;
  p.forEach((row, i) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - q[i][k])))));
  // probabilities as predict writes them, from two runtimes: float32 sums in another order (measured below 1e-6)
  assert.ok(worst <= 1e-4, `${what}: largest probability difference ${worst}`);
  return worst;
}

test('export: a PyTorch CNN updated by distillation goes back to ONNX as a drop-in replacement (NCHW input "images"), predicting what the model directory predicts', async () => {
  const base = baseOnnx();
  const train = await idxPair('train', 4000, 4600, 'train');
  const holdout = await idxPair('test', 0, 400, 'test');
  const v2 = join(dir, 'v2');
  const upd = runCli(['-q', 'update', '--base', base, '--data', train, '--method', 'distill', '--lambda', '0.5', '--epochs', '2', '--batch-size', '64', '--lr', '0.003', '--seed', '1', '--out', v2]);
  assert.equal(upd.code, 0, upd.stderr);
  const meta = JSON.parse(readFileSync(join(v2, 'distillery.json'), 'utf8'));
  assert.equal(meta.architecture.kind, 'layers');
  assert.deepEqual(meta.onnxInterface, { input: 'images', layout: 'nchw', output: 'logits', scores: 'logits' });

  const out = join(dir, 'v2.onnx');
  const exp = runCli(['export', '--model', v2, '--out', out]);
  assert.equal(exp.code, 0, exp.stderr);
  assert.match(exp.stdout, /wrote .*v2\.onnx: .*v2 \(layers, 10 classes, NCHW input, ONNX opset 13\)/);
  const graph = onnx.ModelProto.decode(readFileSync(out)).graph!;
  assert.equal(graph.input![0].name, 'images');
  assert.deepEqual(graph.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['batch', 1, 28, 28]);

  // the same predictions from the directory (tfjs) and the exported file (onnxruntime, fed NCHW)
  assert.equal(runCli(['-q', 'predict', '--model', v2, '--data', holdout, '--out', join(dir, 'dir.csv')]).code, 0);
  const p = runCli(['-q', 'predict', '--model', out, '--data', holdout, '--out', join(dir, 'onnx.csv')]);
  assert.equal(p.code, 0, p.stderr);
  assertSamePredictions(join(dir, 'dir.csv'), join(dir, 'onnx.csv'), 'v2 directory vs v2.onnx');

  // the PyTorch original against its update, both as ONNX files
  const cmp = runCli(['-q', 'compare', '--old', base, '--new', out, '--data', holdout, '--json', join(dir, 'cmp.json'), '--resamples', '100']);
  assert.equal(cmp.code, 0, cmp.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
  assert.equal(report.n, 400);
  assert.ok(report.metrics.accuracyOld.estimate > 0.75, `the PyTorch CNN: ${report.metrics.accuracyOld.estimate}`);
});

test('export: an ensemble directory as one graph (or one member with --member); a decision tree is refused in one line', async () => {
  const base = baseOnnx();
  const train = await idxPair('train', 4000, 4300, 'ens-train');
  const holdout = await idxPair('test', 400, 600, 'ens-test');
  const ens = join(dir, 'ens');
  const made = runCli(['-q', 'ensemble', '--base', base, '--data', train, '--members', '2', '--jobs', '1', '--epochs', '1', '--out', ens]);
  assert.equal(made.code, 0, made.stderr);
  const out = join(dir, 'ens.onnx');
  const exp = runCli(['export', '--model', ens, '--out', out]);
  assert.equal(exp.code, 0, exp.stderr);
  assert.match(exp.stdout, /the ensemble .*ens as one graph \(the mean of its 2 members' logits\) \(layers, 10 classes, NCHW input/);
  assert.equal(runCli(['-q', 'predict', '--model', ens, '--data', holdout, '--out', join(dir, 'ens-dir.csv')]).code, 0);
  assert.equal(runCli(['-q', 'predict', '--model', out, '--data', holdout, '--out', join(dir, 'ens-onnx.csv')]).code, 0);
  assertSamePredictions(join(dir, 'ens-dir.csv'), join(dir, 'ens-onnx.csv'), 'ensemble directory vs its ONNX');
  const member = runCli(['-q', 'export', '--model', ens, '--member', '2', '--out', join(dir, 'member.onnx')]);
  assert.equal(member.code, 0, member.stderr);
  assert.equal(runCli(['-q', 'predict', '--model', join(ens, 'member-2'), '--data', holdout, '--out', join(dir, 'm-dir.csv')]).code, 0);
  assert.equal(runCli(['-q', 'predict', '--model', join(dir, 'member.onnx'), '--data', holdout, '--out', join(dir, 'm-onnx.csv')]).code, 0);
  assertSamePredictions(join(dir, 'm-dir.csv'), join(dir, 'm-onnx.csv'), 'member 2 vs its ONNX');
  // bad input, refused before any work: in this process
  const tooFar = await runCliHere(['-q', 'export', '--model', ens, '--member', '3', '--out', join(dir, 'x.onnx')]);
  assert.equal(tooFar.code, 2);
  assert.match(tooFar.stderr, /--member: 3 is outside \[1, 2\]: .*ens has 2 members\n$/);

  // a decision tree (as transfer's tree student saves it)
  const tree = fitTree({ features: Float32Array.from([0, 1, 2, 3]), numFeatures: 1, numClasses: 2, targets: oneHotTargets(Int32Array.from([0, 0, 1, 1]), 2) }, { kind: 'tree', maxDepth: 2, minLeaf: 1 });
  const treeMeta = { format: 'distillery-model', architecture: { kind: 'tree', maxDepth: 2, minLeaf: 1 }, classNames: ['a', 'b'] } as unknown as TreeMetadata;
  await saveClassifier(join(dir, 'tree'), { kind: 'tree', trained: { tree, meta: treeMeta } });
  const refused = await runCliHere(['-q', 'export', '--model', join(dir, 'tree'), '--out', join(dir, 'tree.onnx')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^distillery: --model: .*tree is a decision tree: ONNX export covers networks\n$/);
});
