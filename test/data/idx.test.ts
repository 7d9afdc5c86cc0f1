import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES, loadFashionMnist, loadIdxImages } from '../../src/data/idx.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';

const dir = makeTempDir();

/** An IDX file: big-endian magic and dimensions, then the uint8 data. */
function idxBytes(magic: number, dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

test('Fashion-MNIST: first training example is an ankle boot (label 9), 28×28×1', async () => {
  const raw = await loadFashionMnist('train', { limit: 100 });
  assert.equal(raw.labels.length, 100);
  assert.deepEqual(raw.shape, [28, 28, 1]);
  assert.equal(raw.pixels.length, 100 * 28 * 28);
  assert.equal(raw.labels[0], 'Ankle boot');
  const spec = fitPreprocessing(raw);
  assert.deepEqual(spec.classNames, FASHION_MNIST_CLASSES, 'class index = label byte');
  const ds = applyPreprocessing(spec, raw);
  assert.equal(ds.labels[0], 9);
  assert.ok(ds.features.every((v) => v >= 0 && v <= 1));
  assert.ok(ds.features.some((v) => v > 0.5));
});

test('Fashion-MNIST test split loads; a missing folder says how to install the data', async () => {
  const raw = await loadFashionMnist('test', { limit: 10 });
  assert.equal(raw.labels.length, 10);
  const absent = `${dir}/nowhere/train-images-idx3-ubyte.gz`;
  await assert.rejects(loadFashionMnist('train', { dir: `${dir}/nowhere` }), isInputError(absent, /apt-get install dataset-fashion-mnist/));
});

test('plain and gzipped IDX pairs load; labels are digit strings without class names', async () => {
  const images = writeFixture(dir, 'images.idx', idxBytes(0x803, [2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  const labels = writeFixture(dir, 'labels.idx.gz', gzipSync(idxBytes(0x801, [2], [3, 0])));
  const raw = await loadIdxImages(images, labels);
  assert.deepEqual(raw.shape, [2, 3, 1]);
  assert.deepEqual(raw.labels, ['3', '0']);
  assert.deepEqual(Array.from(raw.pixels.subarray(6)), [6, 7, 8, 9, 10, 11]);
  const limited = await loadIdxImages(images, labels, { limit: 1 });
  assert.deepEqual(limited.labels, ['3']);
  assert.equal(limited.pixels.length, 6);
});

test('bad IDX files are InputErrors naming the file and the problem', async () => {
  const goodImages = writeFixture(dir, 'good-images', idxBytes(0x803, [2, 1, 1], [0, 1]));
  const goodLabels = writeFixture(dir, 'good-labels', idxBytes(0x801, [2], [0, 1]));

  const truncated = writeFixture(dir, 'truncated.gz', gzipSync(idxBytes(0x803, [3, 2, 2], [1, 2, 3, 4, 5])));
  await assert.rejects(loadIdxImages(truncated, goodLabels), isInputError(truncated, /is truncated: header \(3 × 2 × 2\) implies 28 bytes, found 21/));

  const badMagic = writeFixture(dir, 'bad-magic', idxBytes(0x801, [2], [0, 1]));
  await assert.rejects(loadIdxImages(badMagic, goodLabels), isInputError(badMagic, /bad IDX magic number 0x00000801; expected 0x00000803/));

  const tiny = writeFixture(dir, 'tiny', Buffer.from([0, 0, 8, 1, 0]));
  await assert.rejects(loadIdxImages(goodImages, tiny), isInputError(tiny, /too short for an IDX header/));

  const threeLabels = writeFixture(dir, 'three-labels', idxBytes(0x801, [3], [0, 1, 2]));
  await assert.rejects(loadIdxImages(goodImages, threeLabels), isInputError(threeLabels, /holds 3 labels but .* holds 2 images/));

  const extra = writeFixture(dir, 'extra', Buffer.concat([idxBytes(0x801, [2], [0, 1]), Buffer.from([7])]));
  await assert.rejects(loadIdxImages(goodImages, extra), isInputError(extra, /has trailing bytes/));

  const highLabel = writeFixture(dir, 'high-label', idxBytes(0x801, [2], [0, 12]));
  await assert.rejects(
    loadIdxImages(goodImages, highLabel, { classNames: FASHION_MNIST_CLASSES }),
    isInputError(highLabel, /label 2 is 12 but only 10 class names are known/),
  );
});
