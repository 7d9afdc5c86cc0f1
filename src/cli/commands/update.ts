import { Command, Option } from 'commander';
import { applyPreprocessing } from '../../data/preprocess.js';
import { rawSize } from '../../data/types.js';
import { loadModel, saveModel } from '../../models/io.js';
import { describeMethod, METHOD_DEFAULTS, METHOD_NAMES, type UpdateMethodSpec } from '../../methods/spec.js';
import { trainUpdate } from '../../methods/update.js';
import { formatRate, renderTextTable } from '../../report/table.js';
import { InputError } from '../../util/errors.js';
import { createContext, type GlobalFlags } from '../context.js';
import { holdOutValidation, labelColumnFor, loadDataFlag } from '../dataInput.js';
import { parseNumber, parseNumberList, trainingFromFlags, type TrainingFlags } from '../options.js';
import { addTrainingOptions } from '../trainingOptions.js';

interface UpdateFlags extends TrainingFlags {
  base: string;
  data: string;
  label?: string;
  out: string;
  method: (typeof METHOD_NAMES)[number];
  lambda?: number;
  alpha?: number;
  epsilon?: number;
  smoothing?: number;
  maxChurn?: number;
  lambdas?: number[];
  validation?: number;
  seed: number;
}

/** The method spec from the flags, with defaults for parameters not given. */
export function methodFromFlags(flags: UpdateFlags): UpdateMethodSpec {
  switch (flags.method) {
    case 'plain':
      return { method: 'plain' };
    case 'distill':
      return { method: 'distill', lambda: flags.lambda ?? METHOD_DEFAULTS.distill.lambda };
    case 'anchor':
      return { method: 'anchor', alpha: flags.alpha ?? METHOD_DEFAULTS.anchor.alpha, epsilon: flags.epsilon ?? METHOD_DEFAULTS.anchor.epsilon };
    case 'label-smoothing':
      return { method: 'label-smoothing', epsilon: flags.smoothing ?? METHOD_DEFAULTS['label-smoothing'].epsilon };
    case 'churn-budget':
      if (flags.maxChurn === undefined) throw new InputError('--max-churn', 'is required with --method churn-budget (e.g. --max-churn 0.05)');
      return { method: 'churn-budget', maxChurn: flags.maxChurn, lambdas: flags.lambdas };
  }
}

export function updateCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('update')
    .description('train the new model from a deployed base model and new training data, with a churn-reduction method')
    .requiredOption('--base <dir>', 'the deployed model directory (from `distillery train` or an earlier update)')
    .requiredOption('--data <file|name>', 'training data of the new model (same columns and classes as the base model)')
    .option('--label <column>', 'label column of a CSV (default: as for train)')
    .requiredOption('--out <dir>', 'directory to write the new model to (replaced atomically)')
    .addOption(new Option('--method <name>', 'how to train the new model').choices([...METHOD_NAMES]).default('distill'))
    .option('--lambda <x>', `distill: weight of the base model's soft labels in [0,1] (default ${METHOD_DEFAULTS.distill.lambda})`, parseNumber('lambda', 0, 1))
    .option('--alpha <x>', `anchor: weight of the base model's probabilities where it is right (default ${METHOD_DEFAULTS.anchor.alpha})`, parseNumber('alpha', 0, 1))
    .option('--epsilon <x>', `anchor: weight of the true label where the base model is wrong (default ${METHOD_DEFAULTS.anchor.epsilon})`, parseNumber('epsilon', 0, 1))
    .option('--smoothing <x>', `label-smoothing: ε (default ${METHOD_DEFAULTS['label-smoothing'].epsilon})`, parseNumber('smoothing', 0, 1))
    .option('--max-churn <x>', 'churn-budget: largest allowed validation churn vs the base model, a fraction (e.g. 0.05)', parseNumber('max-churn', 0, 1))
    .option('--lambdas <list>', 'churn-budget: λ grid to search before refining (default 0,0.2,0.4,0.6,0.8,0.9)', parseNumberList('lambdas', 0, 1));
  addTrainingOptions(cmd);
  cmd.addHelpText(
    'after',
    '\nMethods (see docs/methods.md):\n' +
      '  plain            retrain on the labels only\n' +
      '  distill          target λ·softmax(base) + (1−λ)·onehot(y)   (Jiang et al. 2022)\n' +
      '  anchor           α·softmax(base) + (1−α)·onehot(y) where base is right, ε·onehot(y) elsewhere (RCP)\n' +
      '  label-smoothing  (1−ε)·onehot(y) + ε/K\n' +
      '  churn-budget     search λ on validation data; most accurate model with churn ≤ --max-churn\n' +
      '\nExample:\n  distillery update --base models/base --data new.csv --method distill --lambda 0.6 --out models/v2\n',
  );
  return cmd.action(async (flags: UpdateFlags) => {
    const ctx = await createContext(globals());
    const method = methodFromFlags(flags);
    const base = await loadModel(flags.base);
    const raw = await loadDataFlag({ data: flags.data, label: labelColumnFor(flags.label, base.meta.preprocessing) });
    const { train: trainRaw, validation: valRaw } = holdOutValidation(raw, flags.validation ?? 0.1, flags.seed);
    const train = applyPreprocessing(base.meta.preprocessing, trainRaw);
    const validation = applyPreprocessing(base.meta.preprocessing, valRaw);
    ctx.log(`${describeMethod(method)}: ${rawSize(trainRaw)} training examples, ${rawSize(valRaw)} validation`);
    const outcome = await trainUpdate({ base, train, validation, method, training: trainingFromFlags(flags), seed: flags.seed, progress: ctx.progress });
    outcome.trained.meta.recipe.baseModel = flags.base;
    outcome.trained.meta.recipe.data = flags.data;
    await saveModel(flags.out, outcome.trained);
    if (outcome.sweep) {
      ctx.out(
        renderTextTable({
          headers: ['λ', 'val. accuracy', 'val. churn', 'within budget'],
          rows: outcome.sweep.points.map((p) => [p.lambda.toFixed(3), formatRate(p.validationAccuracy), formatRate(p.validationChurn), p.withinBudget ? 'yes' : 'no']),
        }),
      );
      ctx.out(`chose λ=${outcome.sweep.chosenLambda.toFixed(3)}${outcome.sweep.budgetMet ? '' : ' — no λ met the churn budget; kept the lowest-churn model'}`);
    }
    ctx.out(`saved ${flags.out}: validation accuracy ${formatRate(outcome.trained.meta.metrics.validationAccuracy as number)} after ${outcome.result.epochsRun} epochs`);
  });
}
