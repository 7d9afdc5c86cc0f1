import { Command, Option } from 'commander';
import { DEFAULT_TRAINING } from '../methods/fit.js';
import { parseInteger, parseNumber } from './options.js';
import { PATH_KINDS, pathOption } from './pathOptions.js';


/** Adds the optimisation flags every training command shares. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', `maximum passes over the training data (default ${DEFAULT_TRAINING.epochs})`, parseInteger('epochs', 1))
    .option('--batch-size <n>', `minibatch size (default ${DEFAULT_TRAINING.batchSize})`, parseInteger('batch-size', 1))
    .option('--lr <x>', `learning rate (default ${DEFAULT_TRAINING.learningRate})`, parseNumber('lr', 1e-8, 10))
    .addOption(new Option('--optimizer <name>', `optimizer (default ${DEFAULT_TRAINING.optimizer})`).choices(['adam', 'sgd']))
    .option('--patience <n>', `early-stopping patience in epochs without validation improvement, 0 = off (default ${DEFAULT_TRAINING.patience})`, parseInteger('patience', 0))
    .addOption(new Option('--monitor <metric>', `early stopping watches validation loss or accuracy (default ${DEFAULT_TRAINING.monitor})`).choices(['loss', 'accuracy']))
    .option('--validation <size>', 'validation examples held out of the training file: a count, or a fraction in (0,1) (default 0.1)', parseNumber('validation', 0))
    .option('--no-stratify', 'draw the --validation hold-out at random instead of stratified by class (by default each class gives its share, and keeps at least one example in training)')
    .addOption(pathOption('--validation-data <file|name>', 'labelled validation rows instead of a hold-out of --data (read like --data): early stopping and a churn budget are measured on rows no model trained on', PATH_KINDS.data))
    .option('--seed <n>', 'random seed: the same seed and data give the same model', parseInteger('seed'), 1);
}
