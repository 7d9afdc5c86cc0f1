import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fitTree, leafCount, oneHotTargets, treeProbabilities, type CartTree } from '../../src/models/tree.js';
import { classifierLogits, loadClassifier, saveClassifier } from '../../src/models/classifier.js';
import { argmaxRows } from '../../src/models/logits.js';
import { letterSplits } from '../helpers/letter.js';
import { accuracy } from '../../src/models/agreement.js';
import { trainTreeHop } from '../../src/methods/transfer/treeHop.js';
import { buildModel } from '../../src/models/build.js';
import { CachedReference } from '../../src/train/reference.js';
import { predictLogits } from '../../src/models/predict.js';

/**
 * Two groups of examples with two features. In the large group G1 (12 examples) feature 0
 * equals the label and feature 1 is unrelated to it; in the small group G2 (4 examples)
 * feature 0 is the inverted label and feature 1 equals it. A stump on feature 0 gets G1
 * right and G2 wrong (4 errors); one on feature 1 gets G2 right and half of G1 wrong (6).
 */
function twoGroups() {
  const g1 = Array.from({ length: 12 }, (_, i) => ({ y: i < 6 ? 0 : 1, f1: i % 2 }));
  const rows = [...g1.map(({ y, f1 }) => [y, f1, y]), ...[0, 0, 1, 1].map((y) => [1 - y, y, y])];
  return {
    features: Float32Array.from(rows.flatMap((r) => [r[0], r[1]])),
    labels: Int32Array.from(rows.map((r) => r[2])),
    g2: [12, 13, 14, 15],
  };
}

const rootFeature = (tree: CartTree) => tree.nodes[0].feature;

test('tree: example weights move the split toward the heavy examples (a weighted stump picks the feature that fits them)', () => {
  const { features, labels, g2 } = twoGroups();
  const input = { features, numFeatures: 2, numClasses: 2, targets: oneHotTargets(labels, 2) };
  const stump = { kind: 'tree' as const, maxDepth: 1, minLeaf: 1 };
  const unweighted = fitTree(input, stump);
  const weights = Float32Array.from(labels, (_, i) => (g2.includes(i) ? 10 : 1));
  const weighted = fitTree({ ...input, weights }, stump);
  assert.equal(rootFeature(unweighted), 0, 'unweighted: feature 0 (fewer errors overall)');
  assert.equal(rootFeature(weighted), 1, 'weighted: feature 1 (fits the heavy group)');
  const correctOnG2 = (tree: CartTree) => {
    const pred = argmaxRows(treeProbabilities(tree, features), 2);
    return g2.filter((i) => pred[i] === labels[i]).length;
  };
  assert.equal(correctOnG2(unweighted), 0);
  assert.equal(correctOnG2(weighted), 4);
  // Weights of 1 are no weights.
  assert.deepEqual(fitTree({ ...input, weights: new Float32Array(labels.length).fill(1) }, stump), unweighted);
});

test('tree: a leaf predicts the weighted mean of its examples\' target distributions (soft targets)', () => {
  const features = Float32Array.from([0, 0, 0]);
  const targets = Float32Array.from([1, 0, 0.5, 0.5, 0, 1]);
  const weights = Float32Array.from([1, 2, 1]);
  const tree = fitTree({ features, numFeatures: 1, numClasses: 2, targets, weights }, { kind: 'tree', maxDepth: 4, minLeaf: 1 });
  assert.equal(leafCount(tree), 1, 'equal features: no split');
  // class 0: 1·1 + 2·0.5 + 1·0 = 2 of total 4
  assert.deepEqual(Array.from(treeProbabilities(tree, Float32Array.from([0]))), [0.5, 0.5]);
  assert.throws(() => fitTree({ features, numFeatures: 1, numClasses: 2, targets, weights: Float32Array.from([1, -1, 1]) }, { kind: 'tree', maxDepth: 1, minLeaf: 1 }), /tree: example weights/);
});

test('tree student on letter: learns, honours the depth, and a saved tree predicts the same after loading', async () => {
  const s = await letterSplits({ initial: 1500, validation: 200, newBatch: 0, test: 1000 });
  const teacher = buildModel({ kind: 'mlp', hidden: [8] }, s.initial.featureShape, 26, 1);
  const reference = new CachedReference(predictLogits(teacher, s.initial.features, s.initial.featureShape), 26);
  const trained = await trainTreeHop({
    teacher: { model: teacher, meta: { preprocessing: s.spec, seed: 1, id: 't' } as never },
    reference,
    config: { kind: 'tree', maxDepth: 8, minLeaf: 3 },
    method: { method: 'plain' },
    train: s.initial,
    validation: s.validation,
    seed: 1,
  });
  teacher.dispose();
  assert.ok(leafCount(trained.tree) <= 2 ** 8);
  const acc = accuracy(argmaxRows(classifierLogits({ kind: 'tree', trained }, s.test), 26), s.test.labels);
  assert.ok(acc > 0.35 && acc < 0.95, `depth-8 tree test accuracy ${acc}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'distillery-tree-'));
  try {
    await saveClassifier(path.join(dir, 'tree'), { kind: 'tree', trained });
    const loaded = await loadClassifier(path.join(dir, 'tree'));
    assert.equal(loaded.kind, 'tree');
    assert.deepEqual(classifierLogits(loaded, s.test), classifierLogits({ kind: 'tree', trained }, s.test));
    assert.equal(loaded.trained.meta.architecture.kind, 'tree');
    await fs.writeFile(path.join(dir, 'tree', 'tree.json'), '{"numFeatures": 2}');
    await assert.rejects(loadClassifier(path.join(dir, 'tree')), /tree\.json: is not a Distillery decision tree/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
