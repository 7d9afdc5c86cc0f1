/**
 * ONNX files for tests: the fixtures (test/fixtures/onnx/, from make.py) and a copy of one that
 * keeps its weights outside the model file (ONNX external data, as exporters write large models).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnxProto } from '../../src/models/onnxProto.js';

export const ONNX_FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));

/**
 * Writes `name` in `dir`: the model of `from` with every initializer's bytes moved to `name`.weights
 * (one file, in order, at the offsets its external_data names). Returns the model's and the data's paths.
 */
export function withExternalData(from: string, dir: string, name: string): { model: string; data: string } {
  const onnx = onnxProto();
  const m = onnx.ModelProto.decode(readFileSync(from));
  const data = join(dir, `${name}.weights`);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of m.graph!.initializer!) {
    const bytes = t.rawData?.length ? new Uint8Array(t.rawData) : new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
    t.rawData = new Uint8Array(0);
    t.floatData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: basename(data) },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(bytes.length) },
    ];
    chunks.push(bytes);
    offset += bytes.length;
  }
  writeFileSync(data, Buffer.concat(chunks));
  const model = join(dir, name);
  writeFileSync(model, onnx.ModelProto.encode(m).finish());
  return { model, data };
}
