/**
 * How much memory training an architecture takes, estimated from its config before anything
 * is allocated, so an absurd size (`--hidden 100000000`) is refused with a number instead
 * of running until the machine kills it. The estimate counts float32 parameters five times
 * (weights, gradients, Adam's two moments, the best-epoch copy of early stopping; a
 * checkpoint is written from these) and the activations of one batch three times (forward
 * values, their gradients, saved inputs). It is a lower bound of the real need.
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

/** The memory this process may use: the machine's, or the container's limit when lower. */
export function availableMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  return limit && limit > 0 ? Math.min(limit, totalmem()) : totalmem();
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/** Refuses an architecture whose training cannot fit in memory (see the module comment). */
export function checkFitsInMemory(config: BuiltinModelConfig, inputShape: number[], numClasses: number, batchSize: number, available = availableMemory()): void {
  checkEstimateFits(estimateSize(config, inputShape, numClasses), config.kind, batchSize, available);
}

/** Refuses a network of estimated size `e` (`what`: its kind) whose training cannot fit in memory. */
export function checkEstimateFits(e: SizeEstimate, what: string, batchSize: number, available = availableMemory()): void {
  const need = trainingBytes(e, batchSize);
  if (need > available || !Number.isSafeInteger(e.parameters)) {
    throw new InputError(
      `model (${what})`,
      `too large: ${e.parameters.toExponential(2)} parameters; training it needs at least ${gib(need)} of memory, and this machine has ${gib(available)}; choose smaller layers (--hidden, --model-config) or a smaller --batch-size`,
    );
  }
}
