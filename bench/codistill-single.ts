/**
 * One worker on ALL the training data (the baseline of bench/codistill.ts): the same data
 * split, architecture, steps and validation schedule as a codistillation run, with the
 * engine thread count given, printing the time-to-accuracy curve as JSON.
 *
 *   node --import tsx bench/codistill-single.ts --threads 1 --steps 2000 --every 50 --hidden 128
 */
import { initEngine } from '../src/engine/index.js';
import { loadData } from '../src/data/builtin.js';
import { prepareRunData } from '../src/codistill/data.js';
import { buildModel } from '../src/models/build.js';
import { crossEntropyObjective } from '../src/objectives/targetObjectives.js';
import { evaluate, trainModel } from '../src/train/trainer.js';
import { workerSeed } from '../src/codistill/worker.js';
import type { CurvePoint } from '../src/codistill/workerCheckpoint.js';

const opt = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const threads = Number(opt('threads', '1'));
const steps = Number(opt('steps', '2000'));
const every = Number(opt('every', '50'));
const hidden = opt('hidden', '128').split(',').map(Number);
const lr = Number(opt('lr', '0.001'));
const seed = Number(opt('seed', '1'));
await initEngine({ threads });
const data = prepareRunData(await loadData(opt('data', 'letter')), { validation: Number(opt('validation', '0.1')), seed });
const model = buildModel({ kind: 'mlp', hidden }, data.train.featureShape, data.train.classNames.length, workerSeed(seed, 0));
const curve: CurvePoint[] = [];
let start = 0;
await trainModel(model, data.train, {
  objective: crossEntropyObjective(),
  maxSteps: steps,
  epochs: 10_000,
  batchSize: 32,
  learningRate: lr,
  seed: workerSeed(seed, 0),
  callbacks: [
    {
      onTrainBegin: () => void (start = Date.now()),
      onBatchEnd: (s) => {
        if (s % every === 0 || s === steps) curve.push({ step: s, seconds: (Date.now() - start) / 1000, valAccuracy: evaluate(model, data.validation).accuracy });
      },
    },
  ],
});
process.stdout.write(JSON.stringify({ threads, curve }) + '\n');
