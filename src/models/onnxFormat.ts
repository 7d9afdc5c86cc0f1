/**
 * What Distillery reads and writes in an ONNX file besides the graph, and the array layouts
 * between ONNX and tfjs: no dependency (onnx.ts runs models with onnxruntime, onnxProto.ts
 * decodes the file, both optional packages).
 */
import type { PreprocessingSpec } from '../data/types.js';

export const ONNX_PREPROCESSING_KEY = 'distillery.preprocessing';
export const ONNX_OUTPUT_KEY = 'distillery.output';
export const ONNX_LAYOUT_KEY = 'distillery.layout';

/** What a loaded ONNX classifier knows about itself (the fields of a model's metadata that apply). */
export interface OnnxMetadata {
  classNames: string[];
  inputShape: number[];
  preprocessing: PreprocessingSpec;
  output: 'logits' | 'probabilities';
  id: string;
  seed: number;
  /** How the graph takes images: 'nchw' ([batch, c, h, w]) or 'nhwc' (as Distillery's data); 'nhwc' for other inputs. */
  layout: 'nchw' | 'nhwc';
  /** The graph's input and output names. */
  inputName: string;
  outputName: string;
}

/**
 * A dense row-major array of `shape` with its axes permuted: axis j of the result is axis
 * `perm[j]` of the input (conv kernels between ONNX's OIHW and tfjs's HWIO: [2, 3, 1, 0]).
 */
export function permuteAxes(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) [inStrides[i], s] = [s, s * shape[i]];
  const step = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let from = 0;
    for (let j = 0; j < rank; j++) from += index[j] * step[j];
    out[o] = data[from];
    for (let j = rank - 1; j >= 0 && ++index[j] === outShape[j]; j--) index[j] = 0;
  }
  return out;
}

/** A path that names an ONNX model file (by its extension). */
export const isOnnxPath = (p: string): boolean => p.toLowerCase().endsWith('.onnx');

/** NHWC images [rows, h, w, c] as NCHW [rows, c, h, w]. */
export function nhwcToNchw(x: Float32Array, rows: number, [h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const plane = h * w;
  for (let r = 0; r < rows; r++) {
    const base = r * plane * c;
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[base + k * plane + p] = x[base + p * c + k];
  }
  return out;
}
