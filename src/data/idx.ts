import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RawImages } from './types.js';
import { InputError } from '../util/errors.js';
import { readInputFile } from './read.js';
import { requirePositiveInteger } from './values.js';

/** IDX magic numbers: 0x00 0x00, element type 0x08 (uint8), number of dimensions. */
const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;

/** Fashion-MNIST class names, indexed by the label byte. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package installs the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Images with the class order they were labelled with (label byte i ↔ classNames[i]).
 * fitPreprocessing uses `classNames` as the class order; subsetRaw keeps it.
 */
export interface RawImagesWithClasses extends RawImages {
  classNames?: string[];
}

/** Options of {@link loadIdxImages}. */
export interface IdxOptions {
  /** Name of each label byte value; default: the value as a decimal string. */
  classNames?: readonly string[];
  /** Keep only the first `limit` examples. */
  limit?: number;
}

/**
 * Loads an IDX image file (magic 0x803: n × rows × cols uint8) and its IDX label file
 * (magic 0x801: n uint8), each gzipped or plain. Validates magic numbers, dimensions,
 * file lengths against the headers, and that both files hold the same number of examples.
 * Labels become `classNames[byte]` or the byte as a string.
 */
export async function loadIdxImages(imagesPath: string, labelsPath: string, opts: IdxOptions = {}): Promise<RawImagesWithClasses> {
  const [imageBytes, labelBytes] = await Promise.all([readInputFile(imagesPath), readInputFile(labelsPath)]);
  const images = parseIdx(imageBytes, imagesPath, IDX_IMAGES_MAGIC, 3);
  const labelFile = parseIdx(labelBytes, labelsPath, IDX_LABELS_MAGIC, 1);
  const [count, rows, cols] = images.dims;
  if (labelFile.dims[0] !== count) {
    throw new InputError(labelsPath, `holds ${labelFile.dims[0]} labels but ${imagesPath} holds ${count} images`);
  }
  const n = opts.limit === undefined ? count : Math.min(count, requirePositiveInteger(opts.limit, imagesPath, 'limit'));
  const classNames = opts.classNames;
  const labels: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const value = labelFile.data[i];
    if (classNames === undefined) {
      labels[i] = String(value);
    } else if (value < classNames.length) {
      labels[i] = classNames[value];
    } else {
      throw new InputError(labelsPath, `label ${i + 1} is ${value} but only ${classNames.length} class names are known`);
    }
  }
  const raw: RawImagesWithClasses = {
    kind: 'image',
    source: imagesPath,
    pixels: images.data.slice(0, n * rows * cols),
    shape: [rows, cols, 1],
    labels,
  };
  if (classNames !== undefined) raw.classNames = [...classNames];
  return raw;
}

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** Folder holding the four .gz files; default {@link FASHION_MNIST_DIR}. */
  dir?: string;
  limit?: number;
}

/**
 * Loads the Fashion-MNIST train (60,000) or test (10,000) split, 28×28×1, labels as class
 * names in {@link FASHION_MNIST_CLASSES} order. Throws an InputError saying how to
 * install the data when the files are absent.
 */
export async function loadFashionMnist(split: 'train' | 'test', opts: FashionMnistOptions = {}): Promise<RawImagesWithClasses> {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  for (const path of [imagesPath, labelsPath]) {
    if (!existsSync(path)) {
      throw new InputError(path, 'Fashion-MNIST file not found; install the data with `apt-get install dataset-fashion-mnist`');
    }
  }
  return loadIdxImages(imagesPath, labelsPath, { classNames: FASHION_MNIST_CLASSES, limit: opts.limit });
}

interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an uint8 IDX file with the expected magic number and number of dimensions. */
function parseIdx(bytes: Uint8Array, path: string, expectedMagic: number, ndims: number): IdxArray {
  const headerBytes = 4 + 4 * ndims;
  const tooShort = () =>
    new InputError(path, `is too short for an IDX header: expected at least ${headerBytes} bytes, found ${bytes.length}`);
  if (bytes.length < 4) throw tooShort();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new InputError(path, `bad IDX magic number 0x${hex(magic)}; expected 0x${hex(expectedMagic)}`);
  }
  if (bytes.length < headerBytes) throw tooShort();
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  if (dims.slice(1).some((d) => d === 0)) throw new InputError(path, `has a zero dimension in its header (${dims.join(' × ')})`);
  const expectedBytes = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedBytes) {
    const problem = bytes.length < expectedBytes ? 'is truncated' : 'has trailing bytes';
    throw new InputError(path, `${problem}: header (${dims.join(' × ')}) implies ${expectedBytes} bytes, found ${bytes.length}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
