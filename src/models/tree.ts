/**
 * A CART classification tree (Breiman et al. 1984) that takes a weight per example and a
 * target distribution per example (a one-hot label or soft labels), so the reweighting
 * transfers (ProfWeight, SRatio) and soft-target modification apply to a student that is not
 * a neural net. No npm library of a decision tree supports example weights (ml-cart, the
 * maintained mljs CART, does not), hence this small one.
 *
 * Growing a node: the class mass of a set S is m_k(S) = Σ_{i∈S} w_i·t_ik (w the example
 * weights, t the target distributions), M(S) = Σ_k m_k(S), and its weighted Gini impurity is
 * M(S)·(1 − Σ_k (m_k/M)²). The split (feature j, threshold θ) minimises the impurity of
 * {x_j ≤ θ} plus that of {x_j > θ}, over every midpoint between consecutive distinct values
 * of x_j, with at least `minLeaf` examples and positive mass on each side. A node becomes a
 * leaf at `maxDepth`, when no split lowers the impurity, or when it is too small to split;
 * a leaf predicts its class distribution m/M. Ties go to the lowest feature index and the
 * lowest threshold, so the same data always grows the same tree.
 *
 * Each feature's order is sorted once; a split partitions the sorted lists of its node
 * stably, so growing one level costs O(features × examples).
 */
import { InputError } from '../util/errors.js';

/** The architecture of a tree student (in configs: `{kind: tree, maxDepth, minLeaf}`). */
export interface TreeConfig {
  kind: 'tree';
  /** Depth of the deepest leaf (the root is depth 0). */
  maxDepth: number;
  /** Fewest training examples in a leaf. */
  minLeaf: number;
}

/** A node of a fitted tree: a split, or (feature −1) a leaf with its class distribution. */
export type TreeNode = { feature: number; threshold: number; left: number; right: number } | { feature: -1; probs: number[] };

/** A fitted tree: nodes[0] is the root; children are indices into `nodes`. */
export interface CartTree {
  numFeatures: number;
  numClasses: number;
  nodes: TreeNode[];
}

export interface TreeFitInput {
  /** Row-major [n, numFeatures]. */
  features: Float32Array;
  numFeatures: number;
  numClasses: number;
  /** Target distribution per example, row-major [n, numClasses], each row summing to 1 (one-hot for hard labels). */
  targets: Float32Array;
  /** Weight per example (finite, ≥ 0); all 1 when absent. */
  weights?: Float32Array;
}

/** Hard labels as one-hot target rows. */
export function oneHotTargets(labels: Int32Array, numClasses: number): Float32Array {
  const t = new Float32Array(labels.length * numClasses);
  labels.forEach((y, i) => (t[i * numClasses + y] = 1));
  return t;
}

/** Number of decision parameters: a threshold and a feature per split, a distribution per leaf (upper bound for `config`). */
export function treeComplexity(config: TreeConfig, numClasses: number): number {
  const leaves = 2 ** config.maxDepth;
  return 2 * (leaves - 1) + leaves * numClasses;
}

function checkInput(input: TreeFitInput, config: TreeConfig): number {
  const { features, numFeatures: d, numClasses: K, targets, weights } = input;
  if (!(Number.isInteger(config.maxDepth) && config.maxDepth >= 0)) throw new InputError('tree', `maxDepth must be a non-negative integer, got ${config.maxDepth}`);
  if (!(Number.isInteger(config.minLeaf) && config.minLeaf >= 1)) throw new InputError('tree', `minLeaf must be a positive integer, got ${config.minLeaf}`);
  const n = features.length / d;
  if (!Number.isInteger(n) || n === 0) throw new InputError('tree', `${features.length} feature values do not form examples of ${d} features`);
  if (targets.length !== n * K) throw new InputError('tree', `${targets.length} target values for ${n} examples × ${K} classes`);
  if (weights && weights.length !== n) throw new InputError('tree', `${weights.length} weights for ${n} examples`);
  if (weights && weights.some((w) => !(Number.isFinite(w) && w >= 0))) throw new InputError('tree', 'example weights must be finite and non-negative');
  return n;
}

/** Grows a CART tree on weighted examples with (soft) target distributions. */
export function fitTree(input: TreeFitInput, config: TreeConfig): CartTree {
  const n = checkInput(input, config);
  const { features: x, numFeatures: d, numClasses: K, targets } = input;
  const w = input.weights ?? new Float32Array(n).fill(1);
  // mass[i·K + k] = w_i · t_ik
  const mass = new Float64Array(n * K);
  const rowMass = new Float64Array(n);
  for (let i = 0; i < n * K; i++) {
    mass[i] = w[Math.floor(i / K)] * targets[i];
    rowMass[Math.floor(i / K)] += mass[i];
  }
  const nodes: TreeNode[] = [];
  const goesLeft = new Uint8Array(n);

  const rootOrders = Array.from({ length: d }, (_, j) => {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    return idx.sort((a, b) => x[a * d + j] - x[b * d + j] || a - b);
  });

  const classMass = (idx: Int32Array): Float64Array => {
    const m = new Float64Array(K);
    for (const i of idx) for (let k = 0; k < K; k++) m[k] += mass[i * K + k];
    return m;
  };
  const impurity = (m: Float64Array | number[], total: number): number => {
    if (total <= 0) return 0;
    let s = 0;
    for (let k = 0; k < K; k++) s += m[k] * m[k];
    return total - s / total;
  };

  const leaf = (m: Float64Array, fallback: number[]): number => {
    const total = m.reduce((a, b) => a + b, 0);
    nodes.push({ feature: -1, probs: total > 0 ? Array.from(m, (v) => v / total) : fallback });
    return nodes.length - 1;
  };

  const grow = (orders: Int32Array[], depth: number, fallback: number[]): number => {
    const count = orders[0].length;
    const m = classMass(orders[0]);
    const total = m.reduce((a, b) => a + b, 0);
    const probs = total > 0 ? Array.from(m, (v) => v / total) : fallback;
    const parentImpurity = impurity(m, total);
    if (depth >= config.maxDepth || count < 2 * config.minLeaf || parentImpurity <= 1e-12 * Math.max(total, 1)) return leaf(m, fallback);
    let best = { score: parentImpurity - 1e-12 * Math.max(total, 1), feature: -1, threshold: 0 };
    const left = new Float64Array(K);
    for (let j = 0; j < d; j++) {
      const order = orders[j];
      left.fill(0);
      let leftTotal = 0;
      for (let p = 0; p < count - 1; p++) {
        const i = order[p];
        for (let k = 0; k < K; k++) left[k] += mass[i * K + k];
        leftTotal += rowMass[i];
        const here = x[i * d + j];
        const next = x[order[p + 1] * d + j];
        if (here === next || p + 1 < config.minLeaf || count - p - 1 < config.minLeaf) continue;
        const rightTotal = total - leftTotal;
        if (leftTotal <= 0 || rightTotal <= 0) continue;
        let rightSq = 0;
        let leftSq = 0;
        for (let k = 0; k < K; k++) {
          leftSq += left[k] * left[k];
          const r = m[k] - left[k];
          rightSq += r * r;
        }
        const score = leftTotal - leftSq / leftTotal + (rightTotal - rightSq / rightTotal);
        if (score < best.score) best = { score, feature: j, threshold: (here + next) / 2 };
      }
    }
    if (best.feature < 0) return leaf(m, fallback);
    for (const i of orders[0]) goesLeft[i] = x[i * d + best.feature] <= best.threshold ? 1 : 0;
    const leftOrders: Int32Array[] = [];
    const rightOrders: Int32Array[] = [];
    const nLeft = orders[0].reduce((s, i) => s + goesLeft[i], 0);
    for (const order of orders) {
      const l = new Int32Array(nLeft);
      const r = new Int32Array(count - nLeft);
      let a = 0;
      let b = 0;
      for (const i of order) {
        if (goesLeft[i]) l[a++] = i;
        else r[b++] = i;
      }
      leftOrders.push(l);
      rightOrders.push(r);
    }
    const self = nodes.length;
    nodes.push({ feature: best.feature, threshold: best.threshold, left: -1, right: -1 });
    const l = grow(leftOrders, depth + 1, probs);
    const r = grow(rightOrders, depth + 1, probs);
    nodes[self] = { feature: best.feature, threshold: best.threshold, left: l, right: r };
    return self;
  };

  grow(rootOrders, 0, new Array(K).fill(1 / K));
  return { numFeatures: d, numClasses: K, nodes };
}

/** The class distribution of each example's leaf, row-major [n, numClasses]. */
export function treeProbabilities(tree: CartTree, features: Float32Array): Float32Array {
  const d = tree.numFeatures;
  const K = tree.numClasses;
  const n = features.length / d;
  if (!Number.isInteger(n)) throw new InputError('tree', `${features.length} feature values do not form examples of ${d} features`);
  const out = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    let node = tree.nodes[0];
    while (node.feature >= 0) {
      const split = node as Extract<TreeNode, { left: number }>;
      node = tree.nodes[features[i * d + split.feature] <= split.threshold ? split.left : split.right];
    }
    out.set((node as Extract<TreeNode, { probs: number[] }>).probs, i * K);
  }
  return out;
}

/** Smallest probability a tree's "logits" (log-probabilities) represent, so they stay finite. */
export const TREE_PROBABILITY_FLOOR = 1e-6;

/** log(max(p, floor)) of the leaf distributions: scores whose argmax is the tree's prediction, usable wherever logits are. */
export function treeLogits(tree: CartTree, features: Float32Array): Float32Array {
  const p = treeProbabilities(tree, features);
  for (let i = 0; i < p.length; i++) p[i] = Math.log(Math.max(p[i], TREE_PROBABILITY_FLOOR));
  return p;
}

/** Number of leaves of a fitted tree. */
export function leafCount(tree: CartTree): number {
  return tree.nodes.filter((node) => node.feature < 0).length;
}
