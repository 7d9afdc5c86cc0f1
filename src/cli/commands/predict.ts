import { Command } from 'commander';
import { loadClassifier } from '../../models/classifier.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addReadOptions, forEachDataBlock, labelColumnFor, type ReadFlags } from '../dataInput.js';
import { checkPredictionsWriter, PREDICT_BLOCK_ROWS, predictionsOutput, predictWithModel, writePredictionsBy } from '../predictions.js';
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
      // a CSV is read, predicted and written a block of rows at a time: memory holds one block (and, for Parquet, the outputs)
      const data = { ...flags, data: flags.data, label, labelOptional: true };
      const rows = await writePredictionsBy(flags.out, async (sink) => {
        await forEachDataBlock(data, PREDICT_BLOCK_ROWS, async (block) => sink(await predictWithModel(model, block, flags.model)));
      });
      ctx.out(`wrote ${rows} predictions to ${flags.out}`);
    });
}
