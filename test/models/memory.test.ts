/**
 * The training memory estimate (models/memory.ts): the data's part by its stated formula, the
 * refusal of data that cannot fit (naming the file), and the report of a large need.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFitsInMemory, dataBytes, estimateSize, memoryNeed, memoryReport, REPORTED_NEED_BYTES, trainingBytes } from '../../src/models/memory.js';
import { InputError } from '../../src/util/errors.js';

const GiB = 2 ** 30;

test('dataBytes: 4·((n+v)·d + (n+v) + n + n·K·t + n [weights] + 4·v·K)', () => {
  // 1M rows × 50 features, 10 classes, 10% held out: the float32 features dominate
  const size = { trainRows: 900_000, validationRows: 100_000, exampleSize: 50, numClasses: 10 };
  assert.equal(dataBytes(size), 4 * (1_000_000 * 50 + 1_000_000 + 900_000 + 4 * 100_000 * 10));
  assert.equal(dataBytes({ ...size, perRowTables: 2, exampleWeights: true }) - dataBytes(size), 4 * (900_000 * 10 * 2 + 900_000));
  assert.equal(dataBytes({ trainRows: 10, validationRows: 0, exampleSize: 3, numClasses: 2 }), 4 * (30 + 10 + 10));
});

test('memoryNeed adds the data to the network part', () => {
  const e = estimateSize({ kind: 'mlp', hidden: [128, 128] }, [50], 10);
  const data = { trainRows: 900_000, validationRows: 100_000, exampleSize: 50, numClasses: 10 };
  const need = memoryNeed(e, 32, data);
  assert.equal(need.network, trainingBytes(e, 32));
  assert.equal(need.data, dataBytes(data));
  assert.equal(need.total, need.network + need.data);
  assert.equal(memoryNeed(e, 32).data, 0);
});

test('data that cannot fit is refused with the estimate, naming the file; a network that cannot is refused as before', () => {
  const mlp = { kind: 'mlp' as const, hidden: [64] };
  const data = { source: 'big.csv', trainRows: 90_000_000, validationRows: 10_000_000, exampleSize: 50, numClasses: 10 };
  assert.throws(
    () => checkFitsInMemory(mlp, [50], 10, 32, 8 * GiB, data),
    (e: Error) => e instanceof InputError && /^big\.csv: too large for memory: 90000000 training and 10000000 validation rows of 50 features; training needs at least 20\.8 GiB of memory \(data 20\.8 GiB, network [\d.]+ GiB\), and this machine has 8\.0 GiB/.test(e.message),
  );
  // the same rows fit a machine with more memory, and the need is returned
  const need = checkFitsInMemory(mlp, [50], 10, 32, 64 * GiB, data);
  assert.equal(need.data, dataBytes(data));
  assert.throws(() => checkFitsInMemory({ kind: 'mlp', hidden: [100_000_000] }, [50], 10, 32, 64 * GiB, data), /model \(mlp\): too large: .* parameters; training it needs at least [\d.]+ GiB/);
});

test('memoryReport: a line for a need of 1 GiB or more, or of a quarter of the memory; nothing for a small one', () => {
  const small = { network: 1e6, data: 1e7, total: 1.1e7 };
  assert.equal(memoryReport(small, 16 * GiB), undefined);
  const large = { network: 0.5 * GiB, data: 2 * GiB, total: 2.5 * GiB };
  assert.equal(memoryReport(large, 16 * GiB), 'memory: training needs about 2.5 GiB (data 2.0 GiB, network 0.50 GiB); this machine has 16.0 GiB');
  assert.ok(REPORTED_NEED_BYTES === GiB);
  // a quarter of a small machine's memory is reported too
  assert.match(memoryReport({ network: 0, data: 300 * 2 ** 20, total: 300 * 2 ** 20 }, GiB) ?? '', /^memory: training needs about 0\.29 GiB/);
});
