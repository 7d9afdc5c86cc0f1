import { Command } from 'commander';
import { loadClassifier } from '../../models/classifier.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addReadOptions, labelColumnFor, loadDataFlag, type ReadFlags } from '../dataInput.js';
import { checkPredictionsWriter, predictionsOutput, predictWithModel, writePredictionsFile } from '../predictions.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

interface PredictFlags extends OutputFlags, ReadFlags {
  model: string;
  data: string;
  label?: string;
  out: string;
}

export function predictCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('predict')
    .description('run a saved model on data and write a predictions CSV or Parquet file (prediction + one probability column per class)')
    .addOption(pathOption('--model <dir>', 'model directory (a network, a decision tree from `distillery transfer`, or an ensemble directory: the mean of its members)', PATH_KINDS.model, { required: true }))
    .addOption(pathOption('--data <file|name>', 'data to predict (a label column is optional)', PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column to ignore (default: the model\'s label column)')
    .addOption(pathOption('--out <file>', 'predictions file to write: CSV, or Parquet when it ends in .parquet (written atomically; an existing file is replaced only if it is a predictions file)', PATH_KINDS.outputFile, { required: true, output: predictionsOutput }));
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
