import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { ensembleOutput, saveEnsemble, type Ensemble } from '../../models/ensemble.js';
import type { TrainedModel } from '../../models/types.js';
import type { TrainingConfig } from '../../models/recipe.js';
import type { Dataset, PreprocessingSpec } from '../../data/types.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { DEFAULT_ENSEMBLE_MEMBERS, MAX_ENSEMBLE_MEMBERS } from '../../methods/ensemble.js';
import { trainReferenceEnsemble } from '../../experiments/ensembleTraining.js';
import { formatRate } from '../../report/table.js';
import { createContext, type CliContext, type GlobalFlags } from '../context.js';
import { parseInteger, trainingFromFlags, type TrainingFlags } from '../options.js';
import { addTrainingOptions } from '../trainingOptions.js';
import { addReadOptions } from '../dataInput.js';
import { loadUpdateData, type UpdateDataFlags } from '../updateData.js';

interface EnsembleFlags extends TrainingFlags, UpdateDataFlags, OutputFlags {
  members: number;
  jobs?: number;
  out: string;
}

/** `--members`: the ensemble's size (shared by `ensemble` and `update`). */
export const membersOption = ['--members <m>', `models in the reference ensemble, ≥ 2 (default ${DEFAULT_ENSEMBLE_MEMBERS})`, parseInteger('members', 2, MAX_ENSEMBLE_MEMBERS)] as const;
/** `--jobs`: members trained at once. */
export const jobsOption = ['--jobs <n>', 'ensemble members trained at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64)] as const;

/**
 * A reference ensemble of `members` models of the base model's architecture and preprocessing on
 * `data`, trained `--jobs` at a time (every command that trains one goes through here).
 */
export async function trainEnsembleFor(
  base: TrainedModel,
  data: { train: Dataset; validation: Dataset; preprocessing?: PreprocessingSpec },
  training: TrainingConfig,
  opts: { seed: number; members: number; jobs?: number; firstMember?: number },
  ctx: CliContext,
): Promise<Ensemble> {
  const jobs = Math.min(opts.jobs ?? availableParallelism(), opts.members);
  const ensemble = await trainReferenceEnsemble(
    { architecture: base.meta.architecture, ...data, preprocessing: data.preprocessing ?? base.meta.preprocessing, training, seed: opts.seed, firstMember: opts.firstMember, progress: ctx.progress },
    opts.members,
    { jobs, log: ctx.log, progressEvery: jobs > 1 ? 25 : 0 },
  );
  // the members of a base imported from an ONNX file keep its interface (an export of the ensemble takes the same input)
  const onnxInterface = base.meta.onnxInterface;
  if (onnxInterface) for (const m of ensemble.members) m.meta = { ...m.meta, onnxInterface };
  return ensemble;
}

export function ensembleCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('ensemble')
    .description("train a reference ensemble for ELODI: m models of the base model's architecture with different seeds on the update's training data, saved for later updates")
    .requiredOption('--base <dir>', 'the deployed model the update starts from (gives the architecture, preprocessing and classes)')
    .requiredOption('--data <file|name>', 'the update\'s training data (use the same --data, --validation and --seed as the update)')
    .option('--label <column>', 'label column of a CSV/TSV, by name or number from 1 (default: the base model\'s)')
    .option(...membersOption)
    .option(...jobsOption)
    .requiredOption('--out <dir>', 'ensemble directory to write (member-1/ … and ensemble.json; replaced atomically)');
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
    ctx.log(`ensemble of ${members} × ${base.meta.architecture.kind} on ${train.labels.length} training examples, ${jobs} at a time`);
    const ensemble = await trainEnsembleFor(base, { train, validation, preprocessing }, trainingFromFlags(flags), { seed: flags.seed, members, jobs }, ctx);
    await saveEnsemble(flags.out, ensemble);
    const accs = ensemble.members.map((m) => formatRate(m.meta.metrics.validationAccuracy));
    ctx.out(`saved ${flags.out}: ${members} members, validation accuracy ${accs.join(', ')}`);
  });
}
