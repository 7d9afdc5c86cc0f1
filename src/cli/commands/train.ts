import { Command, Option } from 'commander';
import { applyPreprocessing, fitPreprocessing } from '../../data/preprocess.js';
import type { Dataset, PreprocessingSpec } from '../../data/types.js';
import { fitModel } from '../../methods/fit.js';
import { crossEntropyObjective } from '../../objectives/targetObjectives.js';
import { modelOutput, saveModel } from '../../models/io.js';
import { parameterCount } from '../../models/build.js';
import { formatRate } from '../../report/table.js';
import { createContext, type GlobalFlags } from '../context.js';
import { addReadOptions, checkValidationClasses, loadDataFlag, splitTrainValidation, type ReadFlags } from '../dataInput.js';
import { architectureFromFlags, configuredArchitecture, preprocessingOptionsFor } from '../modelOptions.js';
import { addOutputOptions, checkOutputs, resumeSettings, runResumable, type OutputFlags } from '../outputOptions.js';
import { parseNumberList, trainingFromFlags, type TrainingFlags } from '../options.js';
import { addTrainingOptions } from '../trainingOptions.js';
import { classesFromFlags, parseClassList } from '../classOptions.js';
import { addColumnOptions, columnFitOptions, type ColumnFlags } from '../columnOptions.js';
import { commandInputs, PATH_KINDS, pathOption } from '../pathOptions.js';

interface TrainFlags extends TrainingFlags, OutputFlags, ReadFlags, ColumnFlags {
  data: string;
  label?: string;
  out: string;
  model?: 'mlp' | 'cnn' | 'transformer';
  hidden?: number[];
  modelConfig?: string;
  validation?: number;
  validationData?: string;
  /** false with --no-stratify: a plain random hold-out. */
  stratify?: boolean;
  seed: number;
  classes?: string[];
  classesFrom?: string;
}

/** Default validation hold-out of `train` (a fraction of --data). */
const DEFAULT_TRAIN_VALIDATION = 0.1;

export function trainCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('train')
    .description('train a base model on a labelled dataset and save it (tfjs LayersModel + distillery.json)')
    .addOption(pathOption('--data <file|name>', 'training data: a CSV/TSV (a header row, or --no-header), a Parquet or Arrow/Feather file, JSONL text, or a built-in dataset (letter, fashion-mnist)', PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column of a CSV/TSV, by name or number from 1 (default: label/class/target/y, else the last column)')
    .option('--classes <list>', 'every class the model predicts, comma-separated, in this order: classes with no training example yet are allowed (default: the classes of --data, sorted)', parseClassList('--classes'))
    .addOption(pathOption('--classes-from <file>', 'like --classes, one class per line of a text file', PATH_KINDS.inputFile))
    .addOption(pathOption('--out <dir>', 'directory to write the model to (written atomically; an existing one is replaced only if Distillery wrote it)', PATH_KINDS.outputDir, { required: true, output: modelOutput }))
    .addOption(new Option('--model <kind>', 'architecture family (default: mlp for tables, cnn for images, mlp over TF-IDF word n-grams for text; transformer: token ids)').choices(['mlp', 'cnn', 'transformer']))
    .option('--hidden <widths>', 'hidden layer widths, comma-separated (mlp; dense layers for cnn), e.g. 128,128', parseNumberList('hidden', 1))
    .addOption(pathOption('--model-config <file>', 'full architecture as YAML/JSON, e.g. {kind: mlp, hidden: [256, 128], dropout: 0.1}', PATH_KINDS.inputFile));
  addReadOptions(cmd);
  addColumnOptions(cmd);
  addTrainingOptions(cmd);
  addOutputOptions(cmd, { resumable: true });
  cmd.addHelpText('after', '\nExample:\n  distillery train --data data.csv --label class --out models/base --epochs 50 --seed 1\n');
  return cmd.action(async (flags: TrainFlags) => {
    const ctx = await createContext(globals());
    await checkOutputs([modelOutput(flags.out)], flags);
    const { spec, train, validation } = await trainingData(flags, ctx.warn);
    const architecture = await architectureFromFlags(flags, spec);
    ctx.log(`training ${architecture.kind} on ${train.labels.length} examples (${spec.classNames.length} classes), validating on ${validation.labels.length}`);
    await runResumable({ path: flags.out, flag: '--out', inputs: commandInputs(cmd, flags) }, resumeSettings('train', flags), flags, ctx.log, async (partial) => {
      const { trained, result } = await fitModel({
        architecture,
        preprocessing: spec,
        train,
        validation,
        objective: crossEntropyObjective(),
        training: trainingFromFlags(flags),
        seed: flags.seed,
        recipe: { method: 'base', data: flags.data },
        progress: ctx.progress,
        log: ctx.log,
        label: 'base model',
        checkpoint: partial.nextStore(),
      });
      ctx.verbose(`parameters: ${parameterCount(trained.model)}`);
      await saveModel(flags.out, trained);
      ctx.out(
        `saved ${flags.out}: validation accuracy ${formatRate(trained.meta.metrics.validationAccuracy)} after ${result.epochsRun} epochs (best epoch ${result.bestEpoch})`,
      );
    });
  });
}

/**
 * The preprocessing fitted on the training rows and the feature matrices of the training and
 * validation rows. The table read from --data gives its cells to the two parts as the hold-out
 * is made, and the parts are dropped once encoded (nothing outside this function holds them):
 * training keeps the float32 features only.
 */
async function trainingData(flags: TrainFlags, warn: (message: string) => void): Promise<{ spec: PreprocessingSpec; train: Dataset; validation: Dataset }> {
  const raw = await loadDataFlag({ ...flags, dropColumns: flags.ignoreColumns });
  const { train: trainRaw, validation: valRaw } = await splitTrainValidation(raw, flags, DEFAULT_TRAIN_VALIDATION, { release: true });
  // A --model-config transformer fixes the text preprocessing (vocabulary size, sequence length).
  const classNames = await classesFromFlags(flags);
  // warnings about the columns once the data is known to encode (a bad cell's error comes alone)
  const warnings: string[] = [];
  const spec = fitPreprocessing(trainRaw, {
    ...preprocessingOptionsFor(flags, await configuredArchitecture(flags)),
    ...columnFitOptions(flags, raw, (message) => warnings.push(message)),
    classNames,
  });
  checkValidationClasses(spec, valRaw, flags);
  const data = { spec, train: applyPreprocessing(spec, trainRaw), validation: applyPreprocessing(spec, valRaw) };
  warnings.forEach(warn);
  return data;
}
