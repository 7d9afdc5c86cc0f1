/**
 * One benchmark run in its own process (so peak RSS is per run):
 *   node --import tsx bench/run-one.ts --engine native --threads 1 --model mlp --steps 100
 * Prints one JSON line: examples/second over the timed steps, peak RSS, engine info.
 *
 * `--via trainer` measures Distillery's own training path instead of a bare minimize loop:
 * the model from src/models/build.ts (same sizes, dropout 0, like the PyTorch twins) trained
 * by src/train/trainer.ts `trainModel` (batching, labels, per-example objective, optimizer
 * from createOptimizer) on random examples, timed from the end of the warm-up steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, createOptimizer, type EngineChoice } from '../src/engine/index.js';
import { kernelTimes, mmLog } from '../src/engine/profiling.js';
import { buildBenchModel, type ModelName } from './models.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const engine = arg('engine', 'native') as EngineChoice;
const threads = Number(arg('threads', '1'));
const modelName = arg('model', 'mlp') as ModelName;
const steps = Number(arg('steps', '50'));
const warmup = Number(arg('warmup', '3'));
const maxSeconds = Number(arg('max-seconds', '30'));
const batch = Number(arg('batch', '128'));
const stockAdam = process.argv.includes('--stock-adam');
const profile = process.argv.includes('--profile');
const via = arg('via', 'loop');

const info = await initEngine({ backend: engine, threads });
if (info.backend !== engine && engine !== 'auto') {
  console.log(JSON.stringify({ engine, threads, model: modelName, error: `engine unavailable: ${info.notice ?? info.backend}` }));
  process.exit(0);
}
if (via === 'trainer') {
  console.log(JSON.stringify(await trainerRun()));
  process.exit(0);
}
const model = buildBenchModel(modelName);
const opt = stockAdam ? tf.train.adam(1e-3) : createOptimizer({ kind: 'adam', learningRate: 1e-3 });
const data = Array.from({ length: 4 }, () => model.batch(batch));

function step(i: number): number {
  const { x, y } = data[i % data.length];
  const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as tf.Scalar, true);
  const v = cost!.dataSync()[0];
  cost!.dispose();
  return v;
}

let error: string | undefined;
let done = 0;
let seconds = 0;
let firstLoss = NaN, lastLoss = NaN;
let cpu0 = process.cpuUsage();
try {
  for (let i = 0; i < warmup; i++) firstLoss = step(i);
  if (profile) {
    const p = await tf.profile(() => {
      step(0);
    });
    const agg = new Map<string, { ms: number; n: number }>();
    for (const k of p.kernels) {
      const e = agg.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += Number(k.kernelTimeMs);
      e.n++;
      agg.set(k.name, e);
    }
    const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    console.error(rows.map(([n, e]) => `${n.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}x`).join('\n'));
  }
  if (!!process.env.DISTILLERY_KERNEL_TIMES) kernelTimes(true);
  const t0 = process.hrtime.bigint();
  cpu0 = process.cpuUsage();
  while (done < steps) {
    lastLoss = step(done);
    done++;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (seconds > maxSeconds) break;
  }
} catch (e) {
  error = (e as Error).message.split('\n')[0];
}
if (!!process.env.DISTILLERY_KERNEL_TIMES) printKernelTimes(done, seconds);
if (process.env.DISTILLERY_MATMUL_LOG === '1') {
  for (const [k, e] of [...mmLog.entries()].sort((a, b) => b[1].ms - a[1].ms)) console.error(`  ${k.padEnd(28)} ${(e.ms / e.n).toFixed(2)} ms x${e.n}`);
}
const cpu = process.cpuUsage(cpu0);
const cpuMsPerStep = done > 0 ? (cpu.user + cpu.system) / 1000 / done : 0;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify({
    engine: info.backend, threads: info.threads, blas: info.blas, model: modelName, batch, steps: done, seconds,
    exPerSec: done > 0 ? (done * batch) / seconds : 0, msPerStep: done > 0 ? (seconds * 1000) / done : 0, cpuMsPerStep,
    maxRssMB, params: model.params, firstLoss, lastLoss, optimizer: stockAdam ? 'tf.train.adam' : opt.constructor.name,
    ...(error ? { error } : {}),
  }),
);

/** The same measurement through Distillery's trainer and model builder. */
async function trainerRun(): Promise<Record<string, unknown>> {
  const { buildModel, parameterCount } = await import('../src/models/build.js');
  const { trainModel } = await import('../src/train/trainer.js');
  const { crossEntropyObjective } = await import('../src/objectives/targetObjectives.js');
  const { TRANSFORMER } = await import('./models.js');
  const spec =
    modelName === 'mlp'
      ? { config: { kind: 'mlp' as const, hidden: [256, 256], dropout: 0 }, shape: [784], classes: 10 }
      : modelName === 'letter'
      ? { config: { kind: 'mlp' as const, hidden: [256, 256], dropout: 0.2 }, shape: [16], classes: 26 }
      : modelName === 'cnn'
        ? { config: { kind: 'cnn' as const, conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128], dropout: 0 }, shape: [28, 28, 1], classes: 10 }
        : {
            config: { kind: 'transformer' as const, vocabSize: TRANSFORMER.vocab, maxLen: TRANSFORMER.seq, dModel: TRANSFORMER.dModel, heads: TRANSFORMER.heads, layers: TRANSFORMER.layers, ff: TRANSFORMER.ff, dropout: 0 },
            shape: [TRANSFORMER.seq],
            classes: TRANSFORMER.classes,
          };
  const model = buildModel(spec.config, spec.shape, spec.classes, 1);
  const d = spec.shape.reduce((a, b) => a * b, 1);
  const n = batch * 4;
  const features = new Float32Array(n * d);
  for (let i = 0; i < features.length; i++) features[i] = modelName === 'transformer' ? 1 + Math.floor(Math.random() * (TRANSFORMER.vocab - 1)) : Math.random() * 2 - 1;
  const labels = Int32Array.from({ length: n }, () => Math.floor(Math.random() * spec.classes));
  const train = { features, featureShape: spec.shape, labels, classNames: Array.from({ length: spec.classes }, (_, i) => String(i)), source: 'random' };
  let t0 = 0n;
  let c0 = process.cpuUsage();
  let done = 0;
  let error: string | undefined;
  let result: { history: { loss: number }[] } | undefined;
  try {
    result = await trainModel(model, train, {
      objective: crossEntropyObjective(),
      optimizer: 'adam',
      learningRate: 1e-3,
      batchSize: batch,
      epochs: Math.ceil((warmup + steps) / 4) + 1,
      maxSteps: warmup + steps,
      seed: 1,
      callbacks: [
        {
          onBatchEnd: (step) => {
            if (step === warmup) {
              if (!!process.env.DISTILLERY_KERNEL_TIMES) kernelTimes(true);
              t0 = process.hrtime.bigint();
              c0 = process.cpuUsage();
            } else if (step > warmup) done = step - warmup;
          },
        },
      ],
    });
  } catch (e) {
    error = (e as Error).message.split('\n')[0];
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  if (!!process.env.DISTILLERY_KERNEL_TIMES) printKernelTimes(done, seconds);
  return {
    engine: info.backend, threads: info.threads, blas: info.blas, model: modelName, batch, steps: done, seconds,
    exPerSec: done > 0 ? (done * batch) / seconds : 0, msPerStep: done > 0 ? (seconds * 1000) / done : 0,
    cpuMsPerStep: done > 0 ? (cpu.user + cpu.system) / 1000 / done : 0, maxRssMB: process.resourceUsage().maxRSS / 1024,
    params: parameterCount(model), firstLoss: result?.history[0]?.loss, lastLoss: result?.history.at(-1)?.loss,
    via: 'trainModel', ...(error ? { error } : {}),
  };
}

function printKernelTimes(done: number, seconds: number): void {
  const rows = kernelTimes();
  const tot = rows.reduce((a, r) => a + r.ms, 0);
  console.error(`kernels ${(tot / Math.max(done, 1)).toFixed(2)} ms/step of ${((seconds * 1000) / Math.max(done, 1)).toFixed(2)}`);
  for (const r of rows.slice(0, 22)) console.error(`  ${r.kernel.padEnd(22)} ${(r.ms / Math.max(done, 1)).toFixed(3).padStart(8)} ms/step ${(r.calls / Math.max(done, 1)).toFixed(1).padStart(6)} calls`);
}
