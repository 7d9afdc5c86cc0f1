/**
 * The ONNX file format (protobuf messages of onnx-proto, an optional peer dependency loaded on
 * first use): decoding a model file, its graph input and Distillery's metadata. Internal: the
 * public declarations (onnx.ts, onnxImport.ts, onnxExport.ts) name none of these types, so a
 * project without onnx-proto typechecks.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as OnnxProtoModule from 'onnx-proto';
import type { PreprocessingSpec } from '../data/types.js';
import { featureShapeOf } from '../data/preprocess.js';
import { InputError } from '../util/errors.js';
import { requireOptional } from '../util/optional.js';
import { ONNX_LAYOUT_KEY, ONNX_OUTPUT_KEY, ONNX_PREPROCESSING_KEY, type OnnxMetadata } from './onnxFormat.js';

export type Onnx = typeof OnnxProtoModule.onnx;
export type ModelProto = OnnxProtoModule.onnx.ModelProto;
export type TensorProto = OnnxProtoModule.onnx.TensorProto;
export type NodeProto = OnnxProtoModule.onnx.NodeProto;

let loaded: Onnx | undefined;

/** The ONNX protobuf messages (onnx-proto is CommonJS: loaded synchronously, on first use). */
export function onnxProto(feature = 'reading or writing an ONNX file'): Onnx {
  loaded ??= requireOptional<typeof OnnxProtoModule>('onnx-proto', feature).onnx;
  return loaded;
}

/** An int64 field of a decoded message (a number or a Long) as a number. */
export const num = (x: number | { toNumber(): number }): number => (typeof x === 'number' ? x : x.toNumber());

/**
 * The decoded ModelProto of a file, or one clear error. Tensors kept in external data files are
 * read into the model (`externalData: 'load'`, for an import), only checked to be there
 * (`'check'`, for a reader of the graph and metadata that leaves the weights to onnxruntime), or
 * left as they are (`'leave'`: where they are is all the caller asks).
 */
export async function readOnnxProto(file: string, opts: { externalData?: 'load' | 'check' | 'leave' } = {}): Promise<ModelProto> {
  const onnx = onnxProto('reading an ONNX model');
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new InputError(file, 'not found or not readable (expected an ONNX model file)');
  }
  let m: ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
    if (!m.graph || !m.graph.node?.length) throw new Error('no graph');
  } catch (e) {
    throw new InputError(file, `is not an ONNX model: ${(e as Error).message.split('\n')[0]}`);
  }
  const external = opts.externalData ?? 'load';
  if (external !== 'leave') await loadExternalData(m, file, external);
  return m;
}

/** The tensors of a graph that may keep their data outside the model file: initializers and constant attributes. */
function graphTensors(m: ModelProto): OnnxProtoModule.onnx.ITensorProto[] {
  const g = m.graph!;
  return [...(g.initializer ?? []), ...(g.node ?? []).flatMap((n) => (n.attribute ?? []).flatMap((a) => [a.t, ...(a.tensors ?? [])]).filter((t): t is OnnxProtoModule.onnx.ITensorProto => !!t))];
}

/**
 * The files a model's tensors keep their data in (ONNX external data, as exporters write models
 * too large for one protobuf: `location` relative to the model file), resolved next to `file`.
 */
function externalDataFiles(m: ModelProto, file: string): string[] {
  const EXTERNAL = onnxProto().TensorProto.DataLocation.EXTERNAL;
  const files = new Set<string>();
  for (const t of graphTensors(m)) {
    if (t.dataLocation !== EXTERNAL) continue;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (location) files.add(path.resolve(path.dirname(file), location));
  }
  return [...files].sort();
}

/** The external data files of the ONNX model in `file` (none for a model that holds its tensors), read from its graph alone. */
export async function onnxExternalDataFiles(file: string): Promise<string[]> {
  return externalDataFiles(await readOnnxProto(file, { externalData: 'leave' }), file);
}

/**
 * Checks every externally stored tensor's place (its file there, its bytes within it) and, with
 * 'load', reads the bytes into the tensor (rawData), so readers of the model need not know.
 */
async function loadExternalData(m: ModelProto, file: string, mode: 'load' | 'check'): Promise<void> {
  const onnx = onnxProto();
  const tensors = graphTensors(m).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  const opened = new Map<string, { size: number; bytes?: Buffer }>();
  for (const t of tensors) {
    const entry = (key: string) => (t.externalData ?? []).find((e) => e.key === key)?.value ?? undefined;
    const location = entry('location');
    if (!location) throw new InputError(file, `tensor "${t.name}" is stored outside the model but names no file (external_data "location")`);
    const where = path.resolve(path.dirname(file), location);
    const data =
      opened.get(where) ??
      (await (mode === 'load' ? fs.readFile(where).then((bytes) => ({ size: bytes.length, bytes })) : fs.stat(where).then((st) => ({ size: st.size, bytes: undefined }))).catch(() => {
        throw new InputError(file, `tensor "${t.name}" keeps its data in ${location} (next to the model), which is not there or not readable`);
      }));
    opened.set(where, data);
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') !== undefined ? Number(entry('length')) : data.size - offset;
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= data.size)) {
      throw new InputError(file, `tensor "${t.name}": bytes ${offset}–${offset + length} of ${location} are outside the file (${data.size} bytes)`);
    }
    if (!data.bytes) continue;
    t.rawData = new Uint8Array(data.bytes.buffer, data.bytes.byteOffset + offset, length);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
  }
}

/** Input shape of one example, from the graph's first non-initializer input ([batch, ...shape]). */
export function onnxInputShape(m: ModelProto, file: string): { name: string; shape: number[] } {
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const input = (m.graph?.input ?? []).find((i) => !inits.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!input || !dims || dims.length < 2) throw new InputError(file, 'its graph input is not a [batch, features…] tensor');
  const shape = dims.slice(1).map((d) => (d.dimValue === undefined || d.dimValue === null ? NaN : num(d.dimValue)));
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(file, `its graph input has no fixed feature shape (${input.name})`);
  return { name: input.name ?? '', shape };
}

/** The Distillery metadata of an ONNX model (metadata_props), checked against its graph. */
export function onnxMetadata(m: ModelProto, file: string): OnnxMetadata {
  const props = new Map(m.metadataProps.map((p) => [p.key, p.value] as const));
  const specText = props.get(ONNX_PREPROCESSING_KEY);
  if (!specText) {
    throw new InputError(file, `has no "${ONNX_PREPROCESSING_KEY}" metadata: Distillery needs the class names and input preprocessing (see docs/onnx.md)`);
  }
  let spec: PreprocessingSpec;
  try {
    spec = JSON.parse(specText);
  } catch {
    throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata is not JSON`);
  }
  if (!spec || !['tabular', 'image', 'text'].includes(spec.kind) || !Array.isArray(spec.classNames) || spec.classNames.length < 2 || !spec.classNames.every((c) => typeof c === 'string')) {
    throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata is not a preprocessing spec (kind tabular/image/text, classNames)`);
  }
  if (spec.kind === 'tabular' && (!Array.isArray(spec.columns) || typeof spec.labelColumn !== 'string')) throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata needs labelColumn and columns`);
  const output = props.get(ONNX_OUTPUT_KEY) ?? 'logits';
  if (output !== 'logits' && output !== 'probabilities') throw new InputError(file, `its "${ONNX_OUTPUT_KEY}" metadata must be "logits" or "probabilities", got "${output}"`);
  const { name, shape } = onnxInputShape(m, file);
  const { inputShape, layout } = inputLayout(spec, shape, props.get(ONNX_LAYOUT_KEY) ?? undefined, name, file);
  const outputName = m.graph?.output?.[0]?.name ?? '';
  return { classNames: spec.classNames, inputShape, preprocessing: spec, output, id: `onnx:${path.basename(file)}`, seed: 0, layout, inputName: name, outputName };
}

/**
 * The shape of one example as Distillery's data has it, and the graph's layout: an image model's
 * graph input must be the preprocessing's [h, w, c] (NHWC) or [c, h, w] (NCHW); `declared` (the
 * distillery.layout entry) chooses when both fit and must agree with the graph otherwise.
 */
function inputLayout(spec: PreprocessingSpec, graphShape: number[], declared: string | undefined, inputName: string, file: string): { inputShape: number[]; layout: 'nchw' | 'nhwc' } {
  if (declared !== undefined && declared !== 'nchw' && declared !== 'nhwc') throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata must be "nchw" or "nhwc", got "${declared}"`);
  if (spec.kind !== 'image') {
    if (declared === 'nchw') throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata is "nchw" but its preprocessing is ${spec.kind}, not images`);
    // the model's own two halves must agree: data prepared as its metadata says must fit its graph
    let made: number[];
    try {
      made = featureShapeOf(spec);
    } catch {
      throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata is malformed`);
    }
    if (made.join(', ') !== graphShape.join(', ')) {
      const what = spec.kind === 'tabular' ? `${made[0]} inputs (${spec.columns.length} column${spec.columns.length === 1 ? '' : 's'}: ${spec.columns.slice(0, 10).map((c) => c.name).join(', ')}${spec.columns.length > 10 ? ', …' : ''})` : `inputs of shape [${made.join(', ')}]`;
      throw new InputError(file, `its graph input "${inputName}" is [batch, ${graphShape.join(', ')}] but its "${ONNX_PREPROCESSING_KEY}" metadata makes ${what}: the model's metadata and graph disagree`);
    }
    return { inputShape: graphShape, layout: 'nhwc' };
  }
  const [h, w, c] = spec.shape;
  const given = graphShape.join(', ');
  const nhwc = [h, w, c].join(', ');
  const nchw = [c, h, w].join(', ');
  const layout = declared ?? (given === nhwc && given === nchw ? undefined : given === nhwc ? 'nhwc' : given === nchw ? 'nchw' : undefined);
  if (!layout) {
    throw new InputError(
      file,
      given === nhwc
        ? `its graph input "${inputName}" [batch, ${given}] may be NHWC or NCHW (height, width and channels are equal): say which with the "${ONNX_LAYOUT_KEY}" metadata ("nhwc" or "nchw")`
        : `its graph input "${inputName}" is [batch, ${given}], but its preprocessing makes ${h}×${w}×${c} images: the graph must take [batch, ${nhwc}] (NHWC) or [batch, ${nchw}] (NCHW)`,
    );
  }
  const want = layout === 'nchw' ? nchw : nhwc;
  if (given !== want) throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata says ${layout} but its graph input "${inputName}" is [batch, ${given}], not [batch, ${want}] for the ${h}×${w}×${c} images of its preprocessing`);
  return { inputShape: [h, w, c], layout };
}

