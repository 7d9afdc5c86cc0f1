import { z } from 'zod';
import { defineMethod, unitInterval } from '../definition.js';
import { describeTrained } from '../fit.js';
import { deriveSeed } from '../../models/layers.js';
import { codistillationObjective } from '../../objectives/targetObjectives.js';
import { burnInSteps, codistillTogether } from '../../train/codistillTogether.js';

/**
 * Codistillation as an update method, the churn baseline of Jiang et al. (Anil et al. 2018,
 * methods.md §2): the new model is trained on the new data together with a peer (a second
 * copy from another seed, on the same data). For the first B steps each minimises the task
 * loss alone; after it, CE(onehot(y), z) + w·CE(σ(z̃_peer), z), the peer's copy z̃ reloaded
 * every R steps, in synchronous rounds (in this process). The base model plays no part.
 * The schedule is fixed — training.epochs epochs of the new data, B a fraction of its steps —
 * so early stopping does not apply (the recorded training has patience 0).
 */
export const codistill = defineMethod({
  name: 'codistill',
  description: "trained together with a peer on the new data: CE(y, z) + w·CE(σ(z̃_peer), z) after burn-in, peer reloaded every R steps   (Anil et al. 2018)",
  params: z
    .object({
      weight: z.number().min(0).max(100).default(1),
      syncEvery: z.number().int().min(1).default(50),
      burnIn: unitInterval.default(0.4),
    })
    .strict(),
  flags: {
    weight: { flag: '--weight', help: "weight w of the peer's term" },
    syncEvery: { flag: '--sync-every', help: "R: steps between reloads of the peer's copy" },
    burnIn: { flag: '--burn-in', help: 'burn-in B as a fraction of the steps (task loss alone before it)' },
  },
  reference: 'none',
  label: (p) => `codistill w=${p.weight} R=${p.syncEvery}`,
  train: async (ctx, p) => {
    const training = { ...ctx.training, patience: 0 };
    const batchSize = Math.min(training.batchSize, ctx.train.labels.length);
    const steps = training.epochs * Math.ceil(ctx.train.labels.length / batchSize);
    const config = { steps, syncEvery: p.syncEvery, weight: p.weight, burnIn: p.burnIn, batchSize, learningRate: training.learningRate, optimizer: training.optimizer };
    const { models, results } = await codistillTogether({
      architecture: ctx.architecture,
      shards: [ctx.train, ctx.train],
      seeds: [ctx.seed, deriveSeed(ctx.seed, 'codistill-peer')],
      config,
      validation: ctx.validation,
      progress: ctx.progress,
      label: 'codistill',
      logTerms: ctx.logTerms,
    });
    models[1].dispose();
    const trained = describeTrained(
      {
        architecture: ctx.architecture,
        preprocessing: ctx.preprocessing,
        train: ctx.train,
        validation: ctx.validation,
        objective: codistillationObjective(p.weight),
        training,
        maxSteps: steps,
        seed: ctx.seed,
        recipe: { method: 'codistill', params: { ...p, burnInSteps: burnInSteps(config) }, baseModelSeed: ctx.base.meta.seed },
      },
      models[0],
      results[0],
    );
    return { trained, result: results[0] };
  },
});
