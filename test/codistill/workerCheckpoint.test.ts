import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/index.js';
import { buildModel } from '../../src/models/build.js';
import { architectureHash, CheckpointRejected, decodeCheckpoint, encodeCheckpoint, modelWeights, setModelWeights, type CheckpointContent } from '../../src/codistill/workerCheckpoint.js';
import { DirectoryStore } from '../../src/codistill/directoryStore.js';
import { redactUrl } from '../../src/codistill/store.js';
import { Rng } from '../../src/util/rng.js';

await initEngine();
const arch = { kind: 'mlp' as const, hidden: [8] };
const hash = architectureHash(arch, [16], ['a', 'b', 'c']);

function content(step: number, model = buildModel(arch, [16], 3, 1)): CheckpointContent {
  return {
    runId: 'run-a', worker: 1, version: step, step, final: false, architectureHash: hash,
    weights: modelWeights(model),
    training: {
      format: 'distillery-training-snapshot', epoch: 1, steps: step, stopTraining: false, history: [{ epoch: 1, loss: 0.5, trainAccuracy: 0.25 }],
      optimizer: { iterations: step, slots: [{ name: 'm', shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) }], accBeta: [0.5, 0.25] },
      batchOrder: new Rng(3).state(), dropout: [], callbacks: {}, inEpoch: { rows: 64, lossSum: 12.5, correct: 7 },
    },
    progress: { curve: [{ step, seconds: 1.5, valAccuracy: 0.5 }], seconds: 1.5, restarts: 0, silentPeers: [], refused: [], distilledSteps: 0, peerVersions: {} },
  };
}
const expect = { runId: 'run-a', worker: 1, architectureHash: hash };

test('a checkpoint round-trips weights, the training snapshot and progress, and loads into a fresh model', () => {
  const source = buildModel(arch, [16], 3, 1);
  const back = decodeCheckpoint(encodeCheckpoint(content(50, source)), expect);
  assert.equal(back.step, 50);
  assert.deepEqual(Array.from(back.training!.optimizer.slots[0].values), [1, 2, 3, 4]);
  assert.deepEqual({ ...back.training!, optimizer: undefined }, { ...content(50).training!, optimizer: undefined });
  assert.deepEqual(back.training!.optimizer.accBeta, [0.5, 0.25]);
  assert.equal(decodeCheckpoint(encodeCheckpoint({ ...content(60), final: true, training: undefined }), expect).training, undefined);
  assert.deepEqual(back.progress.curve, [{ step: 50, seconds: 1.5, valAccuracy: 0.5 }]);
  const other = buildModel(arch, [16], 3, 2);
  setModelWeights(other, back.weights);
  assert.deepEqual(modelWeights(other).map((w) => Array.from(w.values)), modelWeights(source).map((w) => Array.from(w.values)));
  assert.throws(() => setModelWeights(buildModel({ kind: 'mlp', hidden: [9] }, [16], 3, 1), back.weights), CheckpointRejected);
});

test('a corrupt, truncated, foreign or other-architecture checkpoint is refused', () => {
  const blob = encodeCheckpoint(content(50));
  const flipped = Buffer.from(blob);
  flipped[flipped.length - 3] ^= 0xff;
  assert.throws(() => decodeCheckpoint(flipped, expect), /checksum/);
  assert.throws(() => decodeCheckpoint(blob.subarray(0, blob.length - 8), expect), /truncated/);
  assert.throws(() => decodeCheckpoint(blob.subarray(0, 20), expect), CheckpointRejected);
  assert.throws(() => decodeCheckpoint(Buffer.from('not a checkpoint at all'), expect), /not a Distillery checkpoint/);
  assert.throws(() => decodeCheckpoint(blob, { ...expect, runId: 'run-b' }), /belongs to run "run-a"/);
  assert.throws(() => decodeCheckpoint(blob, { ...expect, worker: 0 }), /worker 1's/);
  assert.throws(() => decodeCheckpoint(blob, { ...expect, architectureHash: 'other' }), /architecture/);
});

test('the directory store publishes atomically, keeps two versions and never returns a corrupt one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'distillery-store-'));
  try {
    const store = new DirectoryStore(root);
    assert.equal(await store.latest('run-a', 1), undefined);
    for (const step of [50, 100, 150]) await store.publish('run-a', 1, { version: step, step, final: false }, encodeCheckpoint(content(step)));
    const dir = join(root, 'run-a', 'worker-1');
    assert.deepEqual(readdirSync(dir).sort(), ['ckpt-100.bin', 'ckpt-150.bin', 'manifest.json']);
    assert.deepEqual(await store.newest('run-a', 1), { version: 150, step: 150, final: false });
    assert.equal(decodeCheckpoint((await store.latest('run-a', 1))!.bytes, expect).step, 150);
    assert.equal((await store.version('run-a', 1, 100))!.version, 100);
    assert.equal(await store.version('run-a', 1, 50), undefined); // cleaned up
    // A half-written temporary file (a publisher killed mid-write) is invisible.
    writeFileSync(join(dir, 'ckpt-200.bin.tmp-1-1'), Buffer.from(encodeCheckpoint(content(200))).subarray(0, 100));
    assert.equal((await store.latest('run-a', 1))!.version, 150);
    // The newest file damaged on disk: the reader falls back to the version before it.
    const newest = readFileSync(join(dir, 'ckpt-150.bin'));
    newest[newest.length - 1] ^= 1;
    writeFileSync(join(dir, 'ckpt-150.bin'), newest);
    const fallback = (await store.latest('run-a', 1))!;
    assert.equal(fallback.version, 100);
    assert.equal(decodeCheckpoint(fallback.bytes, expect).step, 100);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('store addresses are shown with the password masked', () => {
  assert.equal(redactUrl('redis://alice:s3cret@example.org:6380/2'), 'redis://alice:***@example.org:6380/2');
  assert.equal(redactUrl('rediss://:s3cret@h'), 'rediss://:***@h');
  assert.equal(redactUrl('/tmp/store'), '/tmp/store');
});
