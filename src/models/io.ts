/**
 * Model directories. A saved model is a directory holding
 *   model.json       the standard tfjs LayersModel format (modelTopology, weightsManifest,
 *                    format 'layers-model'), loadable by tfjs's loadLayersModel;
 *   weights.bin      the weights, as listed in model.json's weightsManifest;
 *   distillery.json  the ModelMetadata (classes, preprocessing, recipe, metrics, …).
 * Saving is atomic: the directory appears (or replaces an older one) complete, or not at all.
 */
import { promises as fs } from 'node:fs';
import { isOnnxPath } from './onnxFormat.js';
import { importOnnxNetwork } from './onnxImport.js';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelMetadata, TrainedModel } from './types.js';
import { registerDistilleryLayers } from './layers.js';
import { outputWidth } from './predict.js';
import { InputError } from '../util/errors.js';
import { metadataFileSignature, writeDirAtomic, type OutputTarget } from '../util/outputs.js';
import { featureShapeOf } from '../data/preprocess.js';
import { LIBRARY_VERSION } from '../version.js';
import { fromLayersModel, MODEL_INPUT_JSON, modelInputSchema } from './ownModel.js';
import type { ModelConfig } from './config.js';
import { modelConfigSchema } from './configSchema.js';
import { readYamlFile } from '../util/yamlFile.js';
import { MODEL_FORMAT } from './metadata.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METADATA_JSON = 'distillery.json';

/** The network's topology and weights as tfjs serialises them. */
async function captureArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!captured) throw new Error('tfjs returned no model artifacts');
  return captured;
}

/** A model directory as an output (util/outputs.ts): Distillery's when its distillery.json says so. */
export function modelOutput(dir: string, flag = '--out'): OutputTarget {
  return { path: dir, type: 'dir', what: 'model directory', flag, isOurs: metadataFileSignature(METADATA_JSON, /"format"\s*:\s*"distillery-model"/) };
}

/** Non-finite numbers in the metadata (preprocessing statistics, metrics) — a model never saves them. */
function nonFiniteField(value: unknown, where = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : where || '(value)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const w = nonFiniteField(value[i], `${where}[${i}]`);
      if (w) return w;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const w = nonFiniteField(v, where ? `${where}.${k}` : k);
      if (w) return w;
    }
  }
  return undefined;
}

/** Refuses to save a model with a non-finite weight or statistic (it would predict NaN). */
function checkFinite(trained: TrainedModel, weights: Float32Array, dir: string): void {
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i])) throw new InputError(dir, `not saved: the trained network has a non-finite weight (${weights[i]}); the training diverged (lower the learning rate, or check the data for extreme values)`);
  }
  const field = nonFiniteField(trained.meta);
  if (field) throw new InputError(dir, `not saved: ${METADATA_JSON} would hold a non-finite number at ${field} (check the data for extreme values)`);
}

/**
 * Writes `trained` to the directory `dir` (model.json, weights.bin, distillery.json),
 * atomically: an existing `dir` is replaced only once the new one is complete.
 */
export async function saveModel(dir: string, trained: TrainedModel): Promise<void> {
  const artifacts = await captureArtifacts(trained.model);
  const weightBuffer = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
  const weights = new Uint8Array(weightBuffer);
  const floats = (artifacts.weightSpecs ?? []).every((w) => w.dtype === 'float32') ? new Float32Array(weightBuffer) : new Float32Array(0);
  checkFinite(trained, floats, dir);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as {},
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
  };
  await writeDirAtomic(dir, async (tmp) => {
    await fs.writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson));
    await fs.writeFile(path.join(tmp, WEIGHTS_BIN), weights);
    await fs.writeFile(path.join(tmp, METADATA_JSON), `${JSON.stringify(trained.meta, null, 2)}\n`);
  });
}

// ---------------------------------------------------------------------------------------
// Reading

async function checkDirectory(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new InputError(dir, 'model directory not found');
  }
  if (!stat.isDirectory()) {
    throw new InputError(dir, `is not a directory (a model is a directory with ${MODEL_JSON}, ${WEIGHTS_BIN} and ${METADATA_JSON})`);
  }
}

async function readModelFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e: any) {
    if (e?.code === 'ENOENT') throw new InputError(file, `not found (a model directory holds ${MODEL_JSON}, ${WEIGHTS_BIN} and ${METADATA_JSON})`);
    throw new InputError(file, `cannot be read: ${firstLine(e)}`);
  }
}

async function readJson(file: string): Promise<unknown> {
  const text = (await readModelFile(file)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e: any) {
    throw new InputError(file, `is not valid JSON: ${firstLine(e)}`);
  }
}

/** The first line of an error's message (tfjs errors can run to several lines). */
function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** model.json, checked to have a topology and a well-formed weights manifest. */
async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const file = path.join(dir, MODEL_JSON);
  const json = await readJson(file);
  if (!isObject(json) || !isObject(json.modelTopology)) throw new InputError(file, 'has no modelTopology: not a tfjs LayersModel');
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new InputError(file, `has format ${JSON.stringify(json.format)}; expected "layers-model"`);
  }
  const manifest = json.weightsManifest;
  const ok =
    Array.isArray(manifest) &&
    manifest.every((g) => isObject(g) && Array.isArray(g.paths) && g.paths.every((p: unknown) => typeof p === 'string') && Array.isArray(g.weights));
  if (!ok) throw new InputError(file, 'has no valid weightsManifest ([{paths: [...], weights: [...]}])');
  return json as unknown as tf.io.ModelJSON;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the manifest entries describe; undefined when one has a dtype this check does not know. */
function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const size = BYTES_PER_ELEMENT[dtype];
    if (size === undefined || !Array.isArray(spec.shape)) return undefined;
    total += spec.shape.reduce((a, b) => a * b, 1) * size;
  }
  return total;
}

/**
 * The weight files a manifest names, each confined to the model directory: a path that is
 * absolute, climbs out with "..", or resolves (through a symbolic link) outside `dir` is
 * refused before anything is read.
 */
async function weightFiles(dir: string, modelJson: tf.io.ModelJSON): Promise<string[]> {
  const jsonFile = path.join(dir, MODEL_JSON);
  const realDir = await fs.realpath(dir);
  const files: string[] = [];
  for (const p of modelJson.weightsManifest.flatMap((g) => g.paths)) {
    const refuse = () => new InputError(jsonFile, `weightsManifest path ${JSON.stringify(p)} points outside the model directory; weight files must be inside it`);
    if (p === '' || path.isAbsolute(p) || p.includes('\0')) throw refuse();
    const file = path.resolve(dir, p);
    const inside = (root: string, f: string) => {
      const rel = path.relative(root, f);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    };
    if (!inside(path.resolve(dir), file)) throw refuse();
    const real = await fs.realpath(file).catch(() => file);
    if (real !== file && !inside(realDir, real)) throw refuse();
    files.push(file);
  }
  return files;
}

/** All weight files of the manifest, concatenated in manifest order, checked against its size. */
async function readWeights(dir: string, modelJson: tf.io.ModelJSON): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const files = await weightFiles(dir, modelJson);
  const buffers = await Promise.all(files.map(readModelFile));
  const actual = buffers.reduce((a, b) => a + b.byteLength, 0);
  const expected = manifestBytes(specs);
  if (expected !== undefined && expected !== actual) {
    const where = files.length === 1 ? files[0] : `${files.join(', ')} (together)`;
    throw new InputError(where, `holds ${actual} bytes but ${path.join(dir, MODEL_JSON)} describes ${expected} bytes of weights (truncated or mismatched files)`);
  }
  const data = new Uint8Array(actual);
  let offset = 0;
  for (const b of buffers) {
    data.set(b, offset);
    offset += b.byteLength;
  }
  return { specs, data: data.buffer };
}

/**
 * The preprocessing must produce what the network takes: its width (tabular: one input per
 * numeric column and per category) is the input shape, its classes are the class names, and
 * a transformer's vocabulary fits its embedding. A mismatch (an edited or mixed-up
 * distillery.json) is refused when loading, not discovered as NaN or a gather error later.
 */
function checkPreprocessingFits(meta: ModelMetadata, file: string): void {
  let shape: number[];
  try {
    shape = featureShapeOf(meta.preprocessing);
  } catch {
    throw new InputError(file, 'preprocessing is malformed');
  }
  if (!shape.every((d) => Number.isInteger(d)) || shape.join('x') !== meta.inputShape.join('x')) {
    throw new InputError(file, `its preprocessing produces inputs of shape [${shape.join(', ')}] but its inputShape is [${meta.inputShape.join(', ')}]`);
  }
  const p = meta.preprocessing;
  if (!Array.isArray(p.classNames) || p.classNames.join('\u0000') !== meta.classNames.join('\u0000')) {
    throw new InputError(file, 'its preprocessing lists other classes than classNames');
  }
  const problem = textMismatch(meta.architecture, p);
  if (problem) throw new InputError(file, problem);
}

/** Why a transformer cannot read the token ids of a text preprocessing, or undefined when it can. */
export function textMismatch(a: ModelMetadata['architecture'], p: ModelMetadata['preprocessing']): string | undefined {
  if (p.kind !== 'text' || a.kind !== 'transformer') return undefined;
  if (p.encoding === 'tfidf') return 'the text preprocessing is TF-IDF n-grams but a transformer reads token ids';
  if (!Array.isArray(p.vocab) || p.vocab.length > a.vocabSize) return `the vocabulary has ${p.vocab?.length} tokens but the transformer embeds only vocabSize ${a.vocabSize}`;
  if (p.maxLen !== a.maxLen) return `the text preprocessing makes sequences of ${p.maxLen} tokens but the transformer's maxLen is ${a.maxLen}`;
  return undefined;
}

/** distillery.json, checked to be Distillery metadata of a format this version reads. */
async function readMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(dir, METADATA_JSON);
  if (!(await exists(file))) {
    throw new InputError(file, `not found (a model directory holds ${MODEL_JSON}, ${WEIGHTS_BIN} and ${METADATA_JSON}; a network saved by plain tfjs holds ${MODEL_INPUT_JSON} instead, naming its classes and inputs: docs/own-models.md)`);
  }
  const meta = await readJson(file);
  if (!isObject(meta)) throw new InputError(file, 'must hold a JSON object');
  if (meta.format !== MODEL_FORMAT) {
    throw new InputError(file, `has format ${JSON.stringify(meta.format)}; expected "distillery-model" (not Distillery model metadata)`);
  }
  if (meta.formatVersion !== 1) {
    throw new InputError(file, `has formatVersion ${JSON.stringify(meta.formatVersion)}; Distillery ${LIBRARY_VERSION} reads version 1`);
  }
  const shapeOk = Array.isArray(meta.inputShape) && meta.inputShape.every((d: unknown) => Number.isInteger(d) && (d as number) > 0);
  if (!shapeOk) throw new InputError(file, 'inputShape must be a list of positive integers');
  if (!Array.isArray(meta.classNames) || !meta.classNames.every((c: unknown) => typeof c === 'string')) {
    throw new InputError(file, 'classNames must be a list of strings');
  }
  if (!isObject(meta.architecture) || !isObject(meta.preprocessing)) throw new InputError(file, 'architecture and preprocessing must be objects');
  const iface = meta.onnxInterface;
  if (iface !== undefined && !(isObject(iface) && typeof iface.input === 'string' && typeof iface.output === 'string' && ['nchw', 'nhwc'].includes(iface.layout) && ['logits', 'probabilities'].includes(iface.scores))) {
    throw new InputError(file, 'onnxInterface must be {input, layout: "nchw" or "nhwc", output, scores: "logits" or "probabilities"} (the ONNX file the model was imported from)');
  }
  checkPreprocessingFits(meta as ModelMetadata, file);
  return meta as ModelMetadata;
}

/**
 * Reads a model directory written by saveModel. Throws InputError naming the directory or
 * file when the directory or a file is missing, a JSON file is malformed, weights.bin does
 * not match model.json's manifest, distillery.json is not Distillery metadata, or the
 * network does not match its metadata (input shape, number of classes). An `.onnx` file is
 * imported as a network (an MLP; see onnxImport.ts).
 */
export async function loadModel(dir: string): Promise<TrainedModel> {
  if (isOnnxPath(dir)) return importOnnxNetwork(dir);
  registerDistilleryLayers();
  await checkDirectory(dir);
  const modelJson = await readModelJson(dir);
  if (!(await exists(path.join(dir, METADATA_JSON))) && (await exists(path.join(dir, MODEL_INPUT_JSON)))) return loadPlainTfjsModel(dir, modelJson);
  const meta = await readMetadata(dir);
  const model = await readNetwork(dir, modelJson);
  const modelShape = model.inputs[0].shape.slice(1);
  if (modelShape.join('x') !== meta.inputShape.join('x')) {
    model.dispose();
    throw new InputError(dir, `the network takes inputs of shape [${modelShape.join(', ')}] but ${METADATA_JSON} says [${meta.inputShape.join(', ')}]`);
  }
  if (outputWidth(model) !== meta.classNames.length) {
    const k = outputWidth(model);
    model.dispose();
    throw new InputError(dir, `the network outputs ${k} logits but ${METADATA_JSON} lists ${meta.classNames.length} classes`);
  }
  return { model, meta };
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** The tfjs network of a model directory (model.json and its weight files, checked). */
async function readNetwork(dir: string, modelJson: tf.io.ModelJSON): Promise<tfl.LayersModel> {
  const { specs, data } = await readWeights(dir, modelJson);
  try {
    return await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData: data,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        trainingConfig: modelJson.trainingConfig,
      }),
    );
  } catch (e: any) {
    throw new InputError(path.join(dir, MODEL_JSON), `cannot be loaded as a tfjs LayersModel: ${firstLine(e)}`);
  }
}

/**
 * A directory saved by plain tfjs (model.json + weights) with the sidecar distillery-input.json
 * (models/ownModel.ts): the team's network as a Distillery model.
 */
async function loadPlainTfjsModel(dir: string, modelJson: tf.io.ModelJSON): Promise<TrainedModel> {
  const sidecar = path.join(dir, MODEL_INPUT_JSON);
  const parsed = modelInputSchema.safeParse(await readJson(sidecar));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(sidecar, `${issue.path.join('.') || 'file'}: ${issue.message} (fields: classes, columns | image | preprocessing, labelColumn; see docs/own-models.md)`);
  }
  const net = await readNetwork(dir, modelJson);
  try {
    const trained = await fromLayersModel(net, { ...parsed.data, source: sidecar, id: `tfjs:${path.basename(path.resolve(dir))}` });
    if (trained.model !== net) net.dispose();
    return trained;
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/**
 * Loads only the network of a model directory the way a plain tfjs user would: tfjs-layers'
 * `loadLayersModel` with a file-reading IOHandler built on tfjs's own
 * `io.getModelArtifactsForJSON`, and no Distillery checks or metadata.
 *
 * MLPs and CNNs load like this in any tfjs program. A transformer uses Distillery's custom
 * layers (attention, position embedding, masking, pooling): plain tfjs must first register
 * them by calling `registerDistilleryLayers()` (importing Distillery does this), or
 * loading fails with "Unknown layer: Distillery…".
 */
export async function loadPlainModel(dir: string): Promise<tfl.LayersModel> {
  const handler: tf.io.IOHandler = {
    load: async () => {
      const modelJson = JSON.parse(await fs.readFile(path.join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => fs.readFile(path.join(dir, p)))));
        return [specs, tf.io.CompositeArrayBuffer.join(buffers.map((b) => new Uint8Array(b).buffer))];
      });
    },
  };
  return tfl.loadLayersModel(handler);
}

// ---------------------------------------------------------------------------------------
// In memory (between worker threads)

/** A trained model as plain, structured-cloneable data: topology, weights and metadata. */
export interface ModelTransfer {
  modelTopology: {};
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: ArrayBuffer;
  meta: ModelMetadata;
}

/** `trained` as plain data that a worker thread can post to its parent. */
export async function modelToTransfer(trained: TrainedModel): Promise<ModelTransfer> {
  const artifacts = await captureArtifacts(trained.model);
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
  return { modelTopology: artifacts.modelTopology as {}, weightSpecs: artifacts.weightSpecs ?? [], weights, meta: trained.meta };
}

/** The model back from modelToTransfer's data. */
export async function modelFromTransfer(t: ModelTransfer): Promise<TrainedModel> {
  registerDistilleryLayers();
  const model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: t.modelTopology, weightSpecs: t.weightSpecs, weightData: t.weights }));
  return { model, meta: t.meta };
}

// ---------------------------------------------------------------------------------------
// Architectures

/**
 * An architecture named by a path: a model directory (its distillery.json's architecture, or,
 * for a directory saved by plain tfjs, its model.json's topology), a tfjs model.json (its
 * topology; weights are not read), or a YAML/JSON architecture file ({kind: mlp, …}, a tfjs
 * topology). `source` names the flag or key in errors.
 */
export async function loadArchitecture(file: string, source = file): Promise<ModelConfig> {
  let isDir = false;
  try {
    isDir = (await fs.stat(file)).isDirectory();
  } catch {
    throw new InputError(source, `${file} not found (give a model directory, a tfjs model.json or an architecture file)`);
  }
  const hint = ' (an architecture: {kind: mlp | cnn | transformer | layers, …}, a tfjs model.json or a tfjs topology)';
  if (!isDir) return readYamlFile(file, modelConfigSchema, hint);
  const metaFile = path.join(file, METADATA_JSON);
  if (await exists(metaFile)) return (await readMetadata(file)).architecture;
  return readYamlFile(path.join(file, MODEL_JSON), modelConfigSchema, hint);
}

