/**
 * docs/own-models.md, walkthrough 1: a TypeScript team's own tfjs network as the deployed model.
 * Run from the repository (after `npm ci`): node --import tsx docs/examples/tfjs-team.ts [out-dir]
 * (in a project of your own, the same code with `distillery` installed). Models go to out-dir
 * (default models/).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as path from 'node:path';
import { distill, evaluateGate, fromLayersModel, initEngine, loadData, renderComparison, renderGate, saveModel } from 'distillery';

await initEngine(); // Distillery's native engine under tfjs (else tfjs's slow cpu backend)

// The team's data: the 16 numeric columns of the UCI letter table, 26 classes.
const raw = await loadData('letter');
if (raw.kind !== 'tabular') throw new Error('expected a table');
const classes = [...new Set(raw.labels)].sort();
const rows = (from: number, to: number) => ({
  x: Float32Array.from(raw.rows.slice(from, to).flatMap((r) => r.map(Number))),
  y: raw.labels.slice(from, to),
});
const old = rows(0, 2000);

// 1. The deployed model, as the team built and trained it: batch normalisation of the raw
//    inputs, dropout, a softmax output; trained with tfjs's own fit.
const deployed = tfl.sequential({
  layers: [
    tfl.layers.batchNormalization({ inputShape: [16] }),
    tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
    tfl.layers.dropout({ rate: 0.2 }),
    tfl.layers.dense({ units: 26, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
  ],
});
deployed.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' });
await deployed.fit(tf.tensor2d(old.x, [2000, 16]), tf.tensor1d(old.y.map((c) => classes.indexOf(c))), { epochs: 30, batchSize: 32, verbose: 0 });

// 2. As a Distillery model: what it reads (the columns, fed as they are) and its classes.
const v1 = await fromLayersModel(deployed, { classes, columns: raw.columns, labelColumn: 'lettr' });
console.log(`v1: ${v1.meta.architecture.kind} network, ${v1.model.layers.map((l) => l.getClassName()).join(' → ')}; ${v1.meta.recipe.params.logitsOf}`);

// 3. The update: a fresh network of the same architecture on old + new rows, distilled from v1,
//    validated on held-out rows, compared with v1 on test rows neither model saw.
const result = await distill({
  base: v1,
  data: { train: rows(0, 4000), validation: rows(4000, 4500), test: rows(16000, 20000) },
  method: { method: 'distill', lambda: 0.5 },
  training: { epochs: 60, patience: 10, learningRate: 0.003 },
  seed: 1,
});
const last = result.history.at(-1)!;
console.log(`trained ${result.history.length} epochs; last epoch: loss ${last.loss.toFixed(4)} = ${Object.entries(last.terms ?? {}).map(([name, t]) => `${t.weight} × ${name} ${t.value.toFixed(4)}`).join(' + ')}`);
console.log(renderComparison(result.comparison).text);

// 4. The release gate on those numbers, and both models saved as directories the CLI reads.
console.log(renderGate(evaluateGate(result.comparison, { maxNfr: 0.03, minAccuracyGain: 0 })));
const out = process.argv[2] ?? 'models';
await saveModel(path.join(out, 'team-v1'), v1);
await saveModel(path.join(out, 'team-v2'), result.trained);
console.log(`saved ${path.join(out, 'team-v1')} and ${path.join(out, 'team-v2')}`);
