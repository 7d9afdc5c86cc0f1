import { Command } from 'commander';
import { loadClassifier } from '../../models/classifier.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addReadOptions, labelColumnFor, loadDataFlag, type ReadFlags } from '../dataInput.js';
import { predictionsOutput, predictWithModel, writePredictionsCsv } from '../predictions.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';

interface PredictFlags extends OutputFlags, ReadFlags {
  model: string;
  data: string;
  label?: string;
  out: string;
}

export function predictCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('predict')
    .description('run a saved model on data and write a predictions CSV (prediction + one probability column per class)')
    .requiredOption('--model <dir>', 'model directory (a network, a decision tree from `distillery transfer`, or an ensemble directory: the mean of its members)')
    .requiredOption('--data <file|name>', 'data to predict (a label column is optional)')
    .option('--label <column>', 'label column to ignore (default: the model\'s label column)')
    .requiredOption('--out <file>', 'predictions CSV to write (written atomically; an existing file is replaced only if it is a predictions CSV)');
  addReadOptions(cmd);
  return addOutputOptions(cmd, { resumable: false })
    .action(async (flags: PredictFlags) => {
      const ctx = await createContext(globals());
      await checkOutputs([predictionsOutput(flags.out)], flags);
      const model = await loadClassifier(flags.model);
      const label = labelColumnFor(flags.label, model.trained.meta.preprocessing);
      const raw = await loadDataFlag({ ...flags, data: flags.data, label, labelOptional: true });
      const predictions = await predictWithModel(model, raw, flags.model);
      await writePredictionsCsv(flags.out, predictions);
      ctx.out(`wrote ${predictions.predicted.length} predictions to ${flags.out}`);
    });
}
