/**
 * One file for a JSON-like value that holds typed arrays (a training checkpoint): a magic
 * line, the JSON (typed arrays replaced by references), then the arrays' bytes. Numbers
 * round-trip exactly (JSON doubles, float32 bytes).
 */
const MAGIC = 'distillery-state 1\n';

type ArrayKind = 'f32' | 'i32';
interface ArrayRef {
  $array: ArrayKind;
  offset: number;
  length: number;
}

/** Encodes `value` (objects, arrays, numbers, strings, booleans, null, Float32Array, Int32Array). */
export function packState(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(value, (_key, v) => {
    if (v instanceof Float32Array || v instanceof Int32Array) {
      const ref: ArrayRef = { $array: v instanceof Float32Array ? 'f32' : 'i32', offset, length: v.length };
      chunks.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      offset += v.byteLength;
      return ref;
    }
    return v;
  });
  const head = Buffer.from(MAGIC + json + '\n', 'utf8');
  // the arrays start 4-byte aligned after the header
  const pad = (4 - (head.length % 4)) % 4;
  const out = new Uint8Array(head.length + pad + offset);
  out.set(head, 0);
  out.fill(0x20, head.length, head.length + pad);
  let at = head.length + pad;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Decodes what {@link packState} wrote; throws an Error when `bytes` is not such a file. */
export function unpackState<T>(bytes: Uint8Array): T {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) throw new Error('not a Distillery state file');
  const end = buf.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new Error('truncated state file');
  let dataStart = end + 1;
  while (dataStart % 4 !== 0) dataStart++;
  const json = buf.subarray(MAGIC.length, end).toString('utf8');
  return JSON.parse(json, (_key, v) => {
    if (v && typeof v === 'object' && typeof (v as ArrayRef).$array === 'string') {
      const r = v as ArrayRef;
      const start = dataStart + r.offset;
      const bytesLen = r.length * 4;
      if (start + bytesLen > buf.length) throw new Error('truncated state file');
      const copy = new Uint8Array(bytesLen);
      copy.set(buf.subarray(start, start + bytesLen));
      return r.$array === 'f32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    }
    return v;
  }) as T;
}
