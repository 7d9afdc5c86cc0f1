import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { ensembleOutput, saveEnsemble } from '../../models/ensemble.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { DEFAULT_ENSEMBLE_MEMBERS } from '../../methods/ensemble.js';
import { describeArchitecture } from '../../methods/transfer/students.js';
import { formatRate } from '../../report/table.js';
import { createContext, type GlobalFlags } from '../context.js';
import { trainingFromFlags, type TrainingFlags } from '../options.js';
import { jobsOption, membersOption, trainEnsembleFor } from '../ensembleOptions.js';
import { newModelOption, updateArchitecture } from '../modelOptions.js';
import { inheritOnnxInterface } from '../../models/metadata.js';
import { addTrainingOptions } from '../trainingOptions.js';
import { addReadOptions } from '../dataInput.js';
import { loadUpdateData, type UpdateDataFlags } from '../updateData.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

interface EnsembleFlags extends TrainingFlags, UpdateDataFlags, OutputFlags {
  members: number;
  jobs?: number;
  newModel?: string;
  out: string;
}

export function ensembleCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('ensemble')
    .description("train a reference ensemble for ELODI: m models of the base model's architecture with different seeds on the update's training data, saved for later updates")
    .addOption(pathOption('--base <dir>', 'the deployed model the update starts from (gives the architecture, preprocessing and classes)', PATH_KINDS.model, { required: true }))
    .addOption(pathOption('--data <file|name>', 'the update\'s training data (use the same --data, --validation, --no-stratify and --seed as the update)', PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column of a CSV/TSV, by name or number from 1 (default: the base model\'s)')
    .option(...membersOption)
    .option(...jobsOption)
    .addOption(newModelOption())
    .addOption(pathOption('--out <dir>', 'ensemble directory to write (member-1/ … and ensemble.json; replaced atomically)', PATH_KINDS.outputDir, { required: true, output: ensembleOutput }));
  addReadOptions(cmd);
  addTrainingOptions(cmd);
  addOutputOptions(cmd, { resumable: false });
  cmd.addHelpText('after', '\nExample:\n  distillery ensemble --base models/v1 --data new.csv --members 8 --out refs/v2\n  distillery update --base models/v1 --data new.csv --method elodi --reference refs/v2 --out models/v2\n');
  return cmd.action(async (flags: EnsembleFlags) => {
    const ctx = await createContext(globals());
    const members = flags.members ?? DEFAULT_ENSEMBLE_MEMBERS;
    await checkOutputs([ensembleOutput(flags.out)], flags);
    const { base, train, validation, preprocessing } = await loadUpdateData(flags);
    const jobs = Math.min(flags.jobs ?? availableParallelism(), members);
    const architecture = await updateArchitecture(flags, base);
    ctx.log(`ensemble of ${members} × ${describeArchitecture(architecture)} on ${train.labels.length} training examples, ${jobs} at a time`);
    const ensemble = await trainEnsembleFor({ architecture, train, validation, preprocessing, training: trainingFromFlags(flags), seed: flags.seed }, { members, jobs }, ctx);
    // the members of a base imported from an ONNX file keep its interface (an export of the ensemble takes the same input)
    inheritOnnxInterface(ensemble.members, base);
    await saveEnsemble(flags.out, ensemble);
    const accs = ensemble.members.map((m) => formatRate(m.meta.metrics.validationAccuracy));
    ctx.out(`saved ${flags.out}: ${members} members, validation accuracy ${accs.join(', ')}`);
  });
}
