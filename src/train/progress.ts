import type cliProgress from 'cli-progress';
import { lazy } from '../util/lazy.js';

const progressBars = lazy<typeof cliProgress>('cli-progress');
import type { TrainingCallback } from './callbacks.js';

/** Receives training progress. The CLI shows a bar on a TTY and plain log lines otherwise. */
export interface ProgressSink {
  start(label: string, total: number): void;
  update(done: number, values: Record<string, number>): void;
  stop(summary?: string): void;
}

/** Discards progress (library default). */
export const silentProgress: ProgressSink = { start() {}, update() {}, stop() {} };

function formatValues(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' ');
}

/** A progress bar on stderr with loss/accuracy values. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar = new (progressBars().SingleBar)(
        { format: `${label.padEnd(28)} [{bar}] {value}/{total} epochs {metrics}`, stream, hideCursor: true, clearOnComplete: false },
        progressBars().Presets.shades_classic,
      );
      bar.start(total, 0, { metrics: '' });
    },
    update(done, values) {
      bar?.update(done, { metrics: formatValues(values) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** Plain log lines (for pipes and CI logs): one line every `every` updates and at the end. */
export function logProgress(write: (line: string) => void = (l) => process.stderr.write(l + '\n'), every = 10): ProgressSink {
  let label = '';
  let total = 0;
  let last: Record<string, number> = {};
  let lastDone = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
    },
    update(done, values) {
      last = values;
      lastDone = done;
      if (done % every === 0) write(`${label}: ${done}/${total} ${formatValues(values)}`);
    },
    stop(summary) {
      write(`${label}: done at ${lastDone}/${total} ${formatValues(last)}${summary ? ' ' + summary : ''}`);
    },
  };
}

/** Bar when stderr is a terminal, log lines otherwise. */
export function defaultProgress(): ProgressSink {
  return process.stderr.isTTY ? barProgress() : logProgress();
}

/** Progress as a training callback: one update per epoch, the best epoch in the final line when weights were restored. */
export function progressCallback(sink: ProgressSink, label = 'train'): TrainingCallback {
  return {
    onTrainBegin: (state) => sink.start(label, state.epochs),
    onEpochEnd: (r) =>
      sink.update(r.epoch, {
        loss: r.loss,
        // each named loss term, where the trainer logs them (logTerms)
        ...Object.fromEntries(Object.entries(r.terms ?? {}).map(([name, t]) => [name, t.value])),
        acc: r.trainAccuracy,
        ...(r.valAccuracy !== undefined ? { val_loss: r.valLoss!, val_acc: r.valAccuracy } : {}),
      }),
    onTrainEnd: (state) => sink.stop(state.restoredEpoch !== undefined ? `(best epoch ${state.restoredEpoch})` : undefined),
  };
}
