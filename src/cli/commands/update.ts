import { Command } from 'commander';
import { applyPreprocessing } from '../../data/preprocess.js';
import { rawSize } from '../../data/types.js';
import { loadModel, modelOutput, saveModel } from '../../models/io.js';
import { describeMethod } from '../../methods/registry.js';
import { trainUpdate } from '../../methods/update.js';
import { formatRate, renderTextTable } from '../../report/table.js';
import { createContext, type GlobalFlags } from '../context.js';
import { holdOutValidation, labelColumnFor, loadDataFlag } from '../dataInput.js';
import { trainingFromFlags, type TrainingFlags } from '../options.js';
import { addMethodOptions, methodFromFlags } from '../methodOptions.js';
import { addTrainingOptions } from '../trainingOptions.js';
import { addOutputOptions, checkOutputs, resumeSettings, runResumable, type OutputFlags } from '../outputOptions.js';

interface UpdateFlags extends TrainingFlags, OutputFlags, Record<string, unknown> {
  base: string;
  data: string;
  label?: string;
  out: string;
  method: string;
  validation?: number;
  seed: number;
}

export function updateCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('update')
    .description('train the new model from a deployed base model and new training data, with a churn-reduction method')
    .requiredOption('--base <dir>', 'the deployed model directory (from `distillery train` or an earlier update)')
    .requiredOption('--data <file|name>', 'training data of the new model (same columns and classes as the base model)')
    .option('--label <column>', 'label column of a CSV (default: as for train)')
    .requiredOption('--out <dir>', 'directory to write the new model to (written atomically; an existing one is replaced only if Distillery wrote it)');
  addMethodOptions(cmd, 'distill');
  addTrainingOptions(cmd);
  addOutputOptions(cmd, { resumable: true });
  cmd.addHelpText('after', '\nExample:\n  distillery update --base models/base --data new.csv --method distill --lambda 0.6 --out models/v2\n');
  return cmd.action(async (flags: UpdateFlags) => {
    const ctx = await createContext(globals());
    const method = methodFromFlags(flags);
    await checkOutputs([modelOutput(flags.out)], flags);
    const base = await loadModel(flags.base);
    const raw = await loadDataFlag({ data: flags.data, label: labelColumnFor(flags.label, base.meta.preprocessing) });
    const { train: trainRaw, validation: valRaw } = holdOutValidation(raw, flags.validation ?? 0.1, flags.seed);
    const train = applyPreprocessing(base.meta.preprocessing, trainRaw);
    const validation = applyPreprocessing(base.meta.preprocessing, valRaw);
    ctx.log(`${describeMethod(method)}: ${rawSize(trainRaw)} training examples, ${rawSize(valRaw)} validation`);
    const outcome = await runResumable({ path: flags.out, flag: '--out' }, { ...resumeSettings('update', flags), baseModel: base.meta.id }, flags, ctx.log, async (partial) => {
      const outcome = await trainUpdate({ base, train, validation, method, training: trainingFromFlags(flags), seed: flags.seed, progress: ctx.progress, checkpoints: () => partial.nextStore() });
      outcome.trained.meta.recipe.baseModel = flags.base;
      outcome.trained.meta.recipe.data = flags.data;
      await saveModel(flags.out, outcome.trained);
      return outcome;
    });
    if (outcome.sweep) {
      ctx.out(
        renderTextTable({
          headers: ['λ', 'val. accuracy', 'val. churn', 'within budget'],
          rows: outcome.sweep.points.map((p) => [p.lambda.toFixed(3), formatRate(p.validationAccuracy), formatRate(p.validationChurn), p.withinBudget ? 'yes' : 'no']),
        }),
      );
      ctx.out(`chose λ=${outcome.sweep.chosenLambda.toFixed(3)}${outcome.sweep.budgetMet ? '' : ' — no λ met the churn budget; kept the lowest-churn model'}`);
    }
    ctx.out(`saved ${flags.out}: validation accuracy ${formatRate(outcome.trained.meta.metrics.validationAccuracy)} after ${outcome.result.epochsRun} epochs`);
  });
}
