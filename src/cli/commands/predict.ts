import { Command } from 'commander';
import { loadClassifier } from '../../models/classifier.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addReadOptions, labelColumnFor, loadDataFlag, type ReadFlags } from '../dataInput.js';
import { checkPredictionsWriter, predictionsOutput, predictWithModel, writePredictionsFile } from '../predictions.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';

interface PredictFlags extends OutputFlags, ReadFlags {
  model: string;
  data: string;
  label?: string;
  out: string;
}

export function predictCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('predict')
    .description('run a saved model on data and write a predictions CSV or Parquet file (prediction + one probability column per class)')
    .requiredOption('--model <dir>', 'model directory (a network, a decision tree from `distillery transfer`, or an ensemble directory: the mean of its members)')
    .requiredOption('--data <file|name>', 'data to predict (a label column is optional)')
    .option('--label <column>', 'label column to ignore (default: the model\'s label column)')
    .requiredOption('--out <file>', 'predictions file to write: CSV, or Parquet when it ends in .parquet (written atomically; an existing file is replaced only if it is a predictions file)');
  addReadOptions(cmd);
  return addOutputOptions(cmd, { resumable: false })
    .action(async (flags: PredictFlags) => {
      const ctx = await createContext(globals());
      checkPredictionsWriter(flags.out);
      await checkOutputs([predictionsOutput(flags.out)], flags);
      const model = await loadClassifier(flags.model);
      const label = labelColumnFor(flags.label, model.trained.meta.preprocessing);
      // the table is not held here: predictWithModel lets it go once the features are made
      const predictions = await predictWithModel(model, await loadDataFlag({ ...flags, data: flags.data, label, labelOptional: true }), flags.model);
      await writePredictionsFile(flags.out, predictions);
      ctx.out(`wrote ${predictions.predicted.length} predictions to ${flags.out}`);
    });
}
