/**
 * How much memory training an architecture takes, estimated from its config before anything
 * is allocated, so an absurd size (`--hidden 100000000`) or an absurd amount of data is
 * refused with a number instead of running until the machine kills it, and a large run says
 * what it will need before it starts. The estimate counts float32 parameters five times
 * (weights, gradients, Adam's two moments, the best-epoch copy of early stopping; a
 * checkpoint is written from these) and the activations of one batch three times (forward
 * values, their gradients, saved inputs); and the data the trainer holds (see
 * {@link dataBytes}). It is a lower bound of the real need.
 */
import { totalmem } from 'node:os';
import type { BuiltinModelConfig } from './config.js';
import { InputError } from '../util/errors.js';

const FLOAT = 4;

export interface SizeEstimate {
  parameters: number;
  /** Activations of one example (floats) through the network. */
  activationsPerExample: number;
}

/** Parameters and per-example activations of `config` for inputs of `inputShape` and `numClasses` outputs. */
export function estimateSize(config: BuiltinModelConfig, inputShape: number[], numClasses: number): SizeEstimate {
  const dense = (widths: number[]) => {
    let parameters = 0;
    for (let i = 1; i < widths.length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
    return { parameters, activationsPerExample: widths.reduce((a, b) => a + b, 0) };
  };
  switch (config.kind) {
    case 'mlp':
      return dense([inputShape.reduce((a, b) => a * b, 1), ...config.hidden, numClasses]);
    case 'cnn': {
      let [h, w, c] = [inputShape[0] ?? 1, inputShape[1] ?? 1, inputShape[2] ?? 1];
      let parameters = 0;
      let activations = h * w * c;
      for (const b of config.conv) {
        parameters += b.kernel * b.kernel * c * b.filters + b.filters;
        [h, w, c] = [Math.max(1, h - b.kernel + 1), Math.max(1, w - b.kernel + 1), b.filters];
        activations += h * w * c;
        const p = b.pool ?? 1;
        if (p > 1) [h, w] = [Math.max(1, Math.floor(h / p)), Math.max(1, Math.floor(w / p))];
      }
      const head = dense([h * w * c, ...config.dense, numClasses]);
      return { parameters: parameters + head.parameters, activationsPerExample: activations + head.activationsPerExample };
    }
    case 'transformer': {
      const d = config.dModel;
      const perLayer = 4 * (d * d + d) + 4 * d + (d * config.ff + config.ff) + (config.ff * d + d);
      const parameters = config.vocabSize * d + config.maxLen * d + config.layers * perLayer + d * numClasses + numClasses;
      const activationsPerExample = config.maxLen * d * 2 + config.layers * (config.maxLen * (8 * d + config.ff) + config.heads * config.maxLen * config.maxLen);
      return { parameters, activationsPerExample };
    }
  }
}

/** Bytes training needs by the estimate above, with batches of `batchSize`. */
export function trainingBytes(e: SizeEstimate, batchSize: number): number {
  return FLOAT * (5 * e.parameters + 3 * batchSize * e.activationsPerExample);
}

/** The data training holds, by rows: what {@link dataBytes} counts. */
export interface DataSize {
  /** Where the rows come from (the training file): named when the data cannot fit. */
  source?: string;
  trainRows: number;
  validationRows: number;
  /** Floats per example (the width of the feature matrix). */
  exampleSize: number;
  numClasses: number;
  /** Float32 tables of one value per class per training row the trainer keeps (a soft-target table, cached reference logits). */
  perRowTables?: number;
  /** A float32 weight per training row. */
  exampleWeights?: boolean;
}

/**
 * Bytes of the data training holds, with n training rows, v validation rows, d features, K
 * classes and t per-row tables: 4·(n + v)·d (one float32 copy of the features) + 4·(n + v)
 * (int32 labels) + 4·n (the epoch's batch order) + 4·n·K·t (per-row tables) + 4·n (example
 * weights, when given) + 4·4·v·K (validation logits and the three tensors of their loss and
 * accuracy).
 */
export function dataBytes(s: DataSize): number {
  const { trainRows: n, validationRows: v, exampleSize: d, numClasses: K } = s;
  return FLOAT * ((n + v) * d + (n + v) + n + n * K * (s.perRowTables ?? 0) + (s.exampleWeights ? n : 0) + 4 * v * K);
}

/** What training needs: the network's part ({@link trainingBytes}), the data's ({@link dataBytes}), and their sum. */
export interface MemoryNeed {
  network: number;
  data: number;
  total: number;
}

export function memoryNeed(e: SizeEstimate, batchSize: number, data?: DataSize): MemoryNeed {
  const network = trainingBytes(e, batchSize);
  const dataPart = data ? dataBytes(data) : 0;
  return { network, data: dataPart, total: network + dataPart };
}

/** A need at least this large is reported before training starts (as is one of a quarter of the machine's memory or more). */
export const REPORTED_NEED_BYTES = 2 ** 30;

/** The line that reports a large need before training starts; undefined for a small one. */
export function memoryReport(need: MemoryNeed, available = availableMemory()): string | undefined {
  if (need.total < REPORTED_NEED_BYTES && need.total < available / 4) return undefined;
  return `memory: training needs about ${gib(need.total)} (data ${gib(need.data)}, network ${gib(need.network)}); this machine has ${gib(available)}`;
}

/** The memory this process may use: the machine's, or the container's limit when lower. */
export function availableMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  return limit && limit > 0 ? Math.min(limit, totalmem()) : totalmem();
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/** Refuses an architecture whose training (on `data`, when given) cannot fit in memory (see the module comment); returns the need. */
export function checkFitsInMemory(config: BuiltinModelConfig, inputShape: number[], numClasses: number, batchSize: number, available = availableMemory(), data?: DataSize): MemoryNeed {
  return checkEstimateFits(estimateSize(config, inputShape, numClasses), config.kind, batchSize, available, data);
}

/** Refuses a network of estimated size `e` (`what`: its kind) whose training (on `data`, when given) cannot fit in memory; returns the need. */
export function checkEstimateFits(e: SizeEstimate, what: string, batchSize: number, available = availableMemory(), data?: DataSize): MemoryNeed {
  const need = memoryNeed(e, batchSize, data);
  if (need.network > available || !Number.isSafeInteger(e.parameters)) {
    throw new InputError(
      `model (${what})`,
      `too large: ${e.parameters.toExponential(2)} parameters; training it needs at least ${gib(need.network)} of memory, and this machine has ${gib(available)}; choose smaller layers (--hidden, --model-config) or a smaller --batch-size`,
    );
  }
  if (need.total > available) {
    throw new InputError(
      data!.source ?? 'data',
      `too large for memory: ${data!.trainRows} training and ${data!.validationRows} validation rows of ${data!.exampleSize} features; training needs at least ${gib(need.total)} of memory (data ${gib(need.data)}, network ${gib(need.network)}), and this machine has ${gib(available)}; train on fewer rows or fewer features`,
    );
  }
  return need;
}
