/**
 * ONNX models out: a Distillery network (MLP or CNN) as an ONNX file built from its tfjs
 * weights, with the metadata that Distillery's ONNX reader (onnx.ts) needs, so the file
 * serves in onnxruntime and back in Distillery. Opset 13.
 *
 * Layer by layer: Dense → Gemm (kernel [in, out] as is) + Relu/Tanh; Conv2D (tfjs NHWC,
 * kernel [kh, kw, in, out]) → Conv (NCHW, [out, in, kh, kw]) with the input transposed to
 * NCHW once and back to NHWC before Flatten, so Flatten (and the dense weights after it)
 * see tfjs's order; MaxPooling2D → MaxPool; Dropout is the identity at inference. The
 * transformer family is not exported (its custom layers have no one-op ONNX equivalent).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { onnx, ONNX_OUTPUT_KEY, ONNX_PREPROCESSING_KEY } from './onnx.js';
import type { TrainedModel } from './types.js';
import { InputError } from '../util/errors.js';
import { LIBRARY_VERSION } from '../version.js';

const OPSET = 13;
const FLOAT = 1;
const ATTR = onnx.AttributeProto.AttributeType;
/** Names the producer first in the file (after ir_version), so the output policy can tell our exports. */
export const ONNX_PRODUCER = 'distillery';

type Attr = { name: string; i?: number; ints?: number[]; s?: Uint8Array; type: number };
type Node = { opType: string; input: string[]; output: string[]; name: string; attribute: Attr[] };

const ints = (name: string, v: number[]): Attr => ({ name, ints: v, type: ATTR.INTS });
const int = (name: string, v: number): Attr => ({ name, i: v, type: ATTR.INT });

function tensor(name: string, dims: number[], data: Float32Array) {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: FLOAT, rawData: bytes };
}

/** tfjs conv kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
function convKernel(k: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) {
    out[((o * cin + c) * kh + y) * kw + x] = k[((y * kw + x) * cin + c) * cout + o];
  }
  return out;
}

function activationNode(activation: string, x: string, name: string, layer: string): Node | null {
  if (activation === 'linear') return null;
  if (activation === 'relu') return { opType: 'Relu', input: [x], output: [name], name, attribute: [] };
  if (activation === 'tanh') return { opType: 'Tanh', input: [x], output: [name], name, attribute: [] };
  throw new InputError('--model', `layer ${layer}: activation ${activation} has no ONNX export here (relu, tanh and linear do)`);
}

/** The ONNX ModelProto bytes of a Distillery MLP or CNN. */
export function exportOnnx(trained: TrainedModel): Uint8Array {
  const { model, meta } = trained;
  if (meta.architecture.kind === 'transformer') throw new InputError('--model', 'is a transformer: ONNX export covers the mlp and cnn families');
  const nodes: Node[] = [];
  const initializers: ReturnType<typeof tensor>[] = [];
  let x = 'features';
  let nchw = false; // whether x is laid out NCHW (inside the conv stack)
  const emit = (n: Node) => {
    nodes.push(n);
    x = n.output[0];
  };
  for (const layer of model.layers as tfl.layers.Layer[]) {
    const kind = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const name = layer.name;
    const weights = layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape }));
    switch (kind) {
      case 'InputLayer':
      case 'Dropout':
        break;
      case 'Flatten':
        if (nchw) {
          emit({ opType: 'Transpose', input: [x], output: [`${name}_nhwc`], name: `${name}_nhwc`, attribute: [ints('perm', [0, 2, 3, 1])] });
          nchw = false;
        }
        emit({ opType: 'Flatten', input: [x], output: [name], name, attribute: [int('axis', 1)] });
        break;
      case 'Dense': {
        const [kernel, bias] = weights;
        initializers.push(tensor(`${name}.kernel`, kernel.shape, kernel.data), tensor(`${name}.bias`, bias.shape, bias.data));
        emit({ opType: 'Gemm', input: [x, `${name}.kernel`, `${name}.bias`], output: [`${name}_linear`], name, attribute: [] });
        const act = activationNode(String(cfg.activation), x, `${name}_${cfg.activation}`, name);
        if (act) emit(act);
        break;
      }
      case 'Conv2D': {
        if (cfg.padding !== 'valid' || (cfg.dilationRate as number[]).some((d) => d !== 1)) throw new InputError('--model', `layer ${name}: only valid padding without dilation is exported`);
        if (!nchw) {
          emit({ opType: 'Transpose', input: [x], output: ['features_nchw'], name: 'features_nchw', attribute: [ints('perm', [0, 3, 1, 2])] });
          nchw = true;
        }
        const [kernel, bias] = weights;
        const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
        initializers.push(tensor(`${name}.kernel`, [cout, cin, kh, kw], convKernel(kernel.data, kernel.shape)), tensor(`${name}.bias`, bias.shape, bias.data));
        emit({ opType: 'Conv', input: [x, `${name}.kernel`, `${name}.bias`], output: [`${name}_linear`], name, attribute: [ints('kernel_shape', [kh, kw]), ints('strides', cfg.strides as number[])] });
        const act = activationNode(String(cfg.activation), x, `${name}_${cfg.activation}`, name);
        if (act) emit(act);
        break;
      }
      case 'MaxPooling2D':
        if (cfg.padding !== 'valid') throw new InputError('--model', `layer ${name}: only valid pooling is exported`);
        emit({ opType: 'MaxPool', input: [x], output: [name], name, attribute: [ints('kernel_shape', cfg.poolSize as number[]), ints('strides', cfg.strides as number[])] });
        break;
      default:
        throw new InputError('--model', `layer ${name} (${kind}) has no ONNX export`);
    }
  }
  if (nchw) throw new InputError('--model', 'the network ends inside its convolutions (no Flatten)');
  nodes[nodes.length - 1].output[0] = 'logits';
  const K = meta.classNames.length;
  const valueInfo = (n: string, dims: (number | string)[]) => ({
    name: n,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    producerName: ONNX_PRODUCER,
    producerVersion: LIBRARY_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: meta.architecture.kind,
      node: nodes,
      initializer: initializers,
      input: [valueInfo('features', ['batch', ...meta.inputShape])],
      output: [valueInfo('logits', ['batch', K])],
    },
    metadataProps: [
      { key: ONNX_PREPROCESSING_KEY, value: JSON.stringify(meta.preprocessing) },
      { key: ONNX_OUTPUT_KEY, value: 'logits' },
      ...(meta.id ? [{ key: 'distillery.modelId', value: meta.id }] : []),
    ],
  });
  return onnx.ModelProto.encode(proto).finish();
}
