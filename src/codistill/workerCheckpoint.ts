/**
 * A worker's checkpoint as one self-checking blob: everything a peer needs to use the model
 * (its weights) and everything the worker itself needs to resume (the trainer's snapshot:
 * optimizer state, step, batch-order and dropout streams; and the worker's progress so far).
 * Layout:
 *
 *   "DCKP2\n" · uint32 LE header length · header JSON · payload
 *   payload = the weights (float32, concatenated) · the packed training snapshot (bytes)
 *
 * The header names the run, the worker, the version and step, a hash of the architecture,
 * each tensor's place in the payload, the snapshot's length, and the payload's SHA-256. `decodeCheckpoint` refuses
 * a blob that is truncated, corrupt (checksum), of another run or worker, or of another
 * architecture, so a bad checkpoint is never loaded.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TrainingSnapshot } from '../train/snapshots.js';
import { decodeSnapshot, encodeSnapshot } from '../train/snapshots.js';
import type { ModelConfig } from '../models/config.js';

const MAGIC = Buffer.from('DCKP2\n', 'latin1');

/** One validation measurement of a worker: the curve behind time-to-accuracy. */
export interface CurvePoint {
  step: number;
  /** Seconds this worker had spent training when it measured (restarts excluded). */
  seconds: number;
  valAccuracy: number;
}

/** A worker's own account of its run, carried in its checkpoints so a restart keeps it. */
export interface WorkerProgress {
  curve: CurvePoint[];
  /** Seconds spent training before this checkpoint (summed over restarts). */
  seconds: number;
  /** Times the worker was restarted from a checkpoint. */
  restarts: number;
  /** Peers reported for publishing nothing within the timeout, or nothing before this worker finished. */
  silentPeers: number[];
  /** Checkpoints of peers refused (checksum, run ID, architecture), with the reason. */
  refused: string[];
  /** Steps trained with the peers' term (after burn-in, with at least one peer's checkpoint loaded). */
  distilledSteps: number;
  /** The versions (steps) of each peer's checkpoints this worker loaded and distilled from, by peer. */
  peerVersions: Record<number, number[]>;
}

export interface CheckpointContent {
  runId: string;
  worker: number;
  /** Publication counter of this worker, from 1. */
  version: number;
  /** Optimizer steps taken. */
  step: number;
  /** The last checkpoint of a finished worker. */
  final: boolean;
  architectureHash: string;
  /** The model's weights in `model.weights` order. */
  weights: { name: string; shape: number[]; values: Float32Array }[];
  /** Where training stands, less the weights (they are above); absent in a final checkpoint. */
  training?: ResumeState;
  progress: WorkerProgress;
}

/** A trainer snapshot without its weights (the checkpoint carries them once). */
export type ResumeState = Omit<TrainingSnapshot, 'weights'>;

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset and length in float32 elements. */
  offset: number;
  length: number;
}

interface Header extends Omit<CheckpointContent, 'weights' | 'training'> {
  format: 'distillery-checkpoint';
  formatVersion: 2;
  tensors: TensorEntry[];
  /** Bytes of the packed training snapshot after the weights (0: none). */
  trainingBytes: number;
  payloadSha256: string;
}

/** A checkpoint that must not be used, and why. */
export class CheckpointRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckpointRejected';
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Identifies an architecture for a given input shape and class list; peers must agree on it. */
export function architectureHash(architecture: ModelConfig, inputShape: number[], classNames: string[]): string {
  return sha256(Buffer.from(JSON.stringify({ architecture, inputShape, classNames }))).slice(0, 16);
}

/** The weights of `model` as plain arrays, in `model.weights` order. */
export function modelWeights(model: LayersModel): CheckpointContent['weights'] {
  return model.weights.map((w) => {
    const t = w.read();
    return { name: w.originalName ?? w.name, shape: t.shape.slice(), values: new Float32Array(t.dataSync()) };
  });
}

/** Loads checkpoint weights into `model` (same architecture), checking every shape. */
export function setModelWeights(model: LayersModel, weights: CheckpointContent['weights']): void {
  if (weights.length !== model.weights.length) throw new CheckpointRejected(`has ${weights.length} weight tensors; the model has ${model.weights.length}`);
  model.weights.forEach((w, i) => {
    if (w.shape.join('x') !== weights[i].shape.join('x')) throw new CheckpointRejected(`weight ${i} has shape [${weights[i].shape}]; the model's is [${w.shape}]`);
  });
  const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    for (const t of tensors) t.dispose();
  }
}

export function encodeCheckpoint(c: CheckpointContent): Uint8Array {
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const w of c.weights) {
    tensors.push({ name: w.name, shape: w.shape, offset, length: w.values.length });
    offset += w.values.length;
  }
  const training = c.training ? encodeSnapshot({ ...c.training, weights: [] }) : new Uint8Array(0);
  const payloadBytes = new Uint8Array(offset * 4 + training.length);
  const weights = new Float32Array(payloadBytes.buffer, 0, offset);
  for (let i = 0; i < c.weights.length; i++) weights.set(c.weights[i].values, tensors[i].offset);
  payloadBytes.set(training, offset * 4);
  const { weights: _w, training: _t, ...rest } = c;
  const header: Header = { format: 'distillery-checkpoint', formatVersion: 2, ...rest, tensors, trainingBytes: training.length, payloadSha256: sha256(payloadBytes) };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  return Buffer.concat([MAGIC, length, headerBytes, payloadBytes]);
}

/** What a reader requires of a checkpoint. */
export interface CheckpointExpectation {
  runId: string;
  worker: number;
  architectureHash: string;
}

/** Parses and verifies a checkpoint blob; throws CheckpointRejected when it must not be used. */
export function decodeCheckpoint(bytes: Uint8Array, expect: CheckpointExpectation): CheckpointContent {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CheckpointRejected('is not a Distillery checkpoint');
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const payloadStart = MAGIC.length + 4 + headerLength;
  if (payloadStart > buf.length) throw new CheckpointRejected('is truncated (header)');
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(MAGIC.length + 4, payloadStart).toString('utf8')) as Header;
  } catch {
    throw new CheckpointRejected('has an unreadable header');
  }
  if (header.format !== 'distillery-checkpoint' || header.formatVersion !== 2) throw new CheckpointRejected('has an unknown checkpoint format');
  const payloadBytes = buf.subarray(payloadStart);
  const elements = header.tensors.reduce((a, t) => a + t.length, 0);
  const expected = elements * 4 + header.trainingBytes;
  if (payloadBytes.length !== expected) throw new CheckpointRejected(`is truncated: ${payloadBytes.length} payload bytes, header describes ${expected}`);
  if (sha256(payloadBytes) !== header.payloadSha256) throw new CheckpointRejected('fails its checksum (corrupt)');
  if (header.runId !== expect.runId) throw new CheckpointRejected(`belongs to run "${header.runId}", not "${expect.runId}"`);
  if (header.worker !== expect.worker) throw new CheckpointRejected(`is worker ${header.worker}'s, not worker ${expect.worker}'s`);
  if (header.architectureHash !== expect.architectureHash) throw new CheckpointRejected('is of another architecture');
  // Copy out of the (possibly unaligned) buffer once.
  const payload = new Float32Array(elements);
  new Uint8Array(payload.buffer).set(payloadBytes.subarray(0, elements * 4));
  const weights = header.tensors.map((t) => ({ name: t.name, shape: t.shape, values: payload.subarray(t.offset, t.offset + t.length) }));
  const { format: _f, formatVersion: _v, tensors: _t, payloadSha256: _s, trainingBytes, ...rest } = header;
  if (!trainingBytes) return { ...rest, weights };
  const { weights: _none, ...training } = decodeSnapshot(Uint8Array.from(payloadBytes.subarray(elements * 4)), `worker ${header.worker}'s checkpoint`);
  return { ...rest, weights, training };
}
