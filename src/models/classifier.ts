/**
 * A classifier is a network (TrainedModel: tfjs LayersModel + distillery.json) or a CART tree
 * (TrainedTree). Both give per-class scores ("logits"; a tree's are log leaf probabilities)
 * and are saved as a model directory with distillery.json beside the model:
 *   network:  model.json + weights.bin (see io.ts)
 *   tree:     tree.json (the fitted CartTree)
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types.js';
import type { ModelMetadata, TrainedModel } from './types.js';
import type { ReferenceRecord } from './recipe.js';
import { loadModel, METADATA_JSON, saveModel } from './io.js';
import { predictLogits } from './predict.js';
import { treeLogits, type CartTree, type TreeConfig } from './tree.js';
import { writeDirAtomic } from '../util/outputs.js';
import { isEnsembleDir, loadModelOrEnsemble } from './ensemble.js';
import { InputError } from '../util/errors.js';
import { isOnnxPath, loadOnnxModel, onnxLogits, type OnnxModel } from './onnx.js';
import { MODEL_FORMAT } from './metadata.js';

export const TREE_JSON = 'tree.json';

/** distillery.json of a tree: the network metadata's fields that apply to a tree. */
export interface TreeMetadata extends Omit<ModelMetadata, 'architecture' | 'recipe' | 'metrics' | 'engine'> {
  architecture: TreeConfig;
  recipe: {
    method: string;
    params: Record<string, number | number[] | string | boolean>;
    reference?: ReferenceRecord;
    trainExamples: number;
    validationExamples: number;
    exampleWeights: boolean;
    /** Whether the tree was grown on soft target distributions rather than one-hot labels. */
    softTargets: boolean;
    data?: string;
  };
  metrics: { leaves: number; validationAccuracy?: number };
}

export interface TrainedTree {
  tree: CartTree;
  meta: TreeMetadata;
}

/** A classifier Distillery runs itself (synchronously): a tfjs network or a tree. */
export type LocalClassifier = { kind: 'network'; trained: TrainedModel } | { kind: 'tree'; trained: TrainedTree };
/** Any classifier: also an ONNX model run by onnxruntime (compare, gate, predict). */
export type Classifier = LocalClassifier | { kind: 'onnx'; trained: OnnxModel };

export const networkClassifier = (trained: TrainedModel): LocalClassifier => ({ kind: 'network', trained });

/** Scores [n, K] for the rows of `ds` (logits of a network, log leaf probabilities of a tree). */
export function classifierLogits(c: LocalClassifier, ds: Pick<Dataset, 'features' | 'featureShape'>): Float32Array {
  return c.kind === 'network' ? predictLogits(c.trained.model, ds.features, ds.featureShape) : treeLogits(c.trained.tree, ds.features);
}

/** Scores [n, K] of any classifier (onnxruntime for an ONNX model). */
export async function scoreClassifier(c: Classifier, ds: Pick<Dataset, 'features' | 'featureShape'>): Promise<Float32Array> {
  return c.kind === 'onnx' ? onnxLogits(c.trained, ds) : classifierLogits(c, ds);
}

/** Frees a network's tensors (a tree holds none). */
export function disposeClassifier(c: Classifier): void {
  if (c.kind === 'network') c.trained.model.dispose();
  if (c.kind === 'onnx') void c.trained.session.release();
}

/** Writes the classifier's model directory atomically. */
export async function saveClassifier(dir: string, c: LocalClassifier): Promise<void> {
  if (c.kind === 'network') return saveModel(dir, c.trained);
  const { tree, meta } = c.trained;
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, TREE_JSON), JSON.stringify(tree));
    await fs.writeFile(path.join(tmp, METADATA_JSON), `${JSON.stringify(meta, null, 2)}\n`);
  });
}

function isTreeJson(v: any): v is CartTree {
  return (
    v &&
    Number.isInteger(v.numFeatures) &&
    Number.isInteger(v.numClasses) &&
    Array.isArray(v.nodes) &&
    v.nodes.length > 0 &&
    v.nodes.every((n: any, i: number) =>
      n.feature === -1 ? Array.isArray(n.probs) && n.probs.length === v.numClasses : Number.isInteger(n.feature) && n.feature < v.numFeatures && n.left > i && n.right > i && n.left < v.nodes.length && n.right < v.nodes.length,
    )
  );
}

async function loadTree(dir: string): Promise<TrainedTree> {
  const file = path.join(dir, TREE_JSON);
  const metaFile = path.join(dir, METADATA_JSON);
  let tree: unknown;
  let meta: any;
  try {
    tree = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, `cannot be read as JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    meta = JSON.parse(await fs.readFile(metaFile, 'utf8'));
  } catch (e) {
    throw new InputError(metaFile, `cannot be read as JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isTreeJson(tree)) throw new InputError(file, 'is not a Distillery decision tree (numFeatures, numClasses, nodes with children after their parent)');
  if (meta?.format !== MODEL_FORMAT || meta?.architecture?.kind !== 'tree') throw new InputError(metaFile, 'is not the metadata of a Distillery tree');
  if (!Array.isArray(meta.classNames) || meta.classNames.length !== tree.numClasses) throw new InputError(dir, `the tree has ${tree.numClasses} classes but ${METADATA_JSON} lists ${meta.classNames?.length}`);
  return { tree, meta: meta as TreeMetadata };
}

/** Reads a model directory or an ONNX file (run by onnxruntime): a tree when it holds tree.json, an ensemble directory as one network (the mean of its members), a network otherwise (loadModel's checks and errors). */
export async function loadClassifier(dir: string): Promise<Classifier> {
  if (isOnnxPath(dir)) return { kind: 'onnx', trained: await loadOnnxModel(dir) };
  if (await isEnsembleDir(dir)) return { kind: 'network', trained: await loadModelOrEnsemble(dir) };
  const hasTree = await fs.stat(path.join(dir, TREE_JSON)).then(
    () => true,
    () => false,
  );
  return hasTree ? { kind: 'tree', trained: await loadTree(dir) } : { kind: 'network', trained: await loadModel(dir) };
}
