import { Command } from 'commander';
import { modelOutput, saveModel } from '../../models/io.js';
import type { TrainedModel } from '../../models/types.js';
import { datasetFingerprint, ensembleManifest, ensembleOutput, saveEnsemble } from '../../models/ensemble.js';
import { describeMethod, methodNamed } from '../../methods/registry.js';
import { DEFAULT_ENSEMBLE_MEMBERS, OLD_ENSEMBLE_FIRST_MEMBER, type EnsembleMemberRequest } from '../../methods/ensemble.js';
import { checkRetrainOldMethod, retrainOldModel } from '../../methods/retrainOld.js';
import { checkReferenceSpec, resolveReference, type ReferenceNames, type ReferenceSpec } from '../../methods/referenceSpec.js';
import { trainUpdate } from '../../methods/update.js';
import { formatRate, renderTextTable } from '../../report/table.js';
import { DistilleryError, InputError } from '../../util/errors.js';
import { createContext, type GlobalFlags } from '../context.js';
import { trainingFromFlags, type TrainingFlags } from '../options.js';
import { addMethodOptions, methodFromFlags } from '../methodOptions.js';
import { addTrainingOptions } from '../trainingOptions.js';
import { addOutputOptions, checkOutputs, resumeSettings, runResumable, type OutputFlags } from '../outputOptions.js';
import { addReadOptions } from '../dataInput.js';
import { loadUpdateData, type UpdateDataFlags } from '../updateData.js';
import { readLoggedScores } from '../loggedScores.js';
import { alignColumns } from '../../models/logits.js';
import { jobsOption, membersOption, trainEnsembleFor } from '../ensembleOptions.js';
import { newModelOption, updateArchitecture } from '../modelOptions.js';
import { commandInputs, PATH_KINDS, pathOption } from '../pathOptions.js';

/** Exit code of an update whose churn budget no λ met (the lowest-churn model is still saved). */
export const BUDGET_NOT_MET_EXIT = 4;

/** The library's reference parameters as `update` spells them. */
const REFERENCE_FLAGS: ReferenceNames = { reference: '--reference', members: '--members' };

interface UpdateFlags extends TrainingFlags, UpdateDataFlags, OutputFlags, Record<string, unknown> {
  out: string;
  newModel?: string;
  method: string;
  reference?: string;
  referencePredictions?: string;
  members?: number;
  saveReference?: string;
  retrainOld?: string;
  oldData?: string;
  jobs?: number;
  seed: number;
}

/** The rows `rows` of a [n, K] score matrix (the training rows of the logged predictions). */
function rowsOf(scores: Float32Array, rows: Int32Array, K: number): Float32Array {
  const out = new Float32Array(rows.length * K);
  rows.forEach((r, i) => out.set(scores.subarray(r * K, (r + 1) * K), i * K));
  return out;
}

export function updateCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('update')
    .description('train the new model from a deployed base model and new training data, with a churn-reduction method')
    .addOption(pathOption('--base <dir>', 'the deployed model directory (from `distillery train` or an earlier update)', PATH_KINDS.model, { required: true }))
    .addOption(pathOption('--data <file|name>', "training data of the new model (the base model's columns; classes the base model lacks are added: the new model predicts the union)", PATH_KINDS.data, { required: true }))
    .option('--label <column>', 'label column of a CSV/TSV, by name or number from 1 (default: as for train)')
    .addOption(pathOption('--out <dir>', 'directory to write the new model to (written atomically; an existing one is replaced only if Distillery wrote it)', PATH_KINDS.outputDir, { required: true }));
  addMethodOptions(cmd, 'distill');
  cmd
    .addOption(pathOption('--reference <dir>', 'teacher for the method instead of the base model: an ensemble directory from `distillery ensemble` (elodi and ensemble read one; without it they train one)', PATH_KINDS.inputDir))
    .addOption(pathOption('--reference-predictions <file>', "teacher given as logged predictions of a model Distillery cannot run: logits or probabilities per row of --data (.csv with p:<class> or z:<class> columns, .jsonl, .npy; see docs/onnx.md)", PATH_KINDS.inputFile))
    .option(...membersOption)
    .addOption(newModelOption())
    .addOption(pathOption('--save-reference <dir>', 'keep the ensemble trained for this update as an ensemble directory, for later updates', PATH_KINDS.outputDir, { output: ensembleOutput }))
    .addOption(pathOption('--retrain-old <dir>', "elodi only: also retrain the old model toward its own ensemble on --old-data (ELODI's variant where the deployed model can be retrained) and write it here", PATH_KINDS.outputDir, { output: modelOutput }))
    .addOption(pathOption('--old-data <file|name>', "the old model's training data, for --retrain-old", PATH_KINDS.data))
    .option(...jobsOption);
  addReadOptions(cmd);
  addTrainingOptions(cmd);
  addOutputOptions(cmd, { resumable: true });
  cmd.addHelpText(
    'after',
    '\nExamples:\n  distillery update --base models/base --data new.csv --method distill --lambda 0.6 --out models/v2\n' +
      '  distillery update --base models/base --data new.csv --method elodi --reference refs/v2 --out models/v2\n' +
      '\n--resume continues the new model\'s training from its last epoch; a reference ensemble trained here is trained again.\n' +
      `\nExit status: 0 saved; ${BUDGET_NOT_MET_EXIT} churn-budget met no λ within --max-churn (the lowest-churn model is saved); 2 bad input; 1 internal error.\n`,
  );
  return cmd.action(async (flags: UpdateFlags) => {
    const ctx = await createContext(globals());
    const method = methodFromFlags(flags);
    const def = methodNamed(method.method);
    // every flag conflict is found here, before anything is read or trained
    if (def.reference === 'none') {
      for (const [key, flag] of [['reference', '--reference'], ['referencePredictions', '--reference-predictions'], ['members', '--members'], ['saveReference', '--save-reference'], ['jobs', '--jobs']] as const) {
        if (flags[key] !== undefined) throw new InputError(flag, `does not apply to --method ${def.name} (it has no teacher)`);
      }
    }
    if (flags.referencePredictions && (flags.reference || flags.members !== undefined || flags.saveReference)) {
      throw new InputError('--reference-predictions', `is the teacher: leave out ${flags.reference ? '--reference' : flags.members !== undefined ? '--members' : '--save-reference'}`);
    }
    if (flags.reference && ((flags.members !== undefined && !flags.retrainOld) || flags.saveReference)) {
      throw new InputError(flags.saveReference ? '--save-reference' : '--members', 'applies only when the ensemble is trained here, not with --reference');
    }
    if ((flags.retrainOld === undefined) !== (flags.oldData === undefined)) {
      throw new InputError(flags.retrainOld ? '--old-data' : '--retrain-old', flags.retrainOld ? "is required with --retrain-old (the old model's training data)" : 'applies only with --retrain-old');
    }
    if (flags.retrainOld) checkRetrainOldMethod(method, '--retrain-old');
    const trainsEnsemble = !flags.reference && !flags.referencePredictions && (def.reference === 'ensemble' || flags.members !== undefined);
    if (flags.saveReference && !trainsEnsemble) throw new InputError('--save-reference', `applies only when a reference ensemble is trained here (--method ${def.name} trains none; add --members)`);
    const referenceSpec = (logits?: Float32Array): ReferenceSpec | undefined =>
      flags.reference ? { kind: 'ensemble', dir: flags.reference }
      : flags.referencePredictions ? { kind: 'logged', source: flags.referencePredictions, logits: logits ?? new Float32Array(0) }
      : flags.members !== undefined ? { kind: 'ensemble', members: flags.members }
      : undefined;
    checkReferenceSpec(method, referenceSpec(), REFERENCE_FLAGS);
    const outIsEnsemble = def.name === 'ensemble';
    await checkOutputs(
      [
        outIsEnsemble ? ensembleOutput(flags.out) : modelOutput(flags.out),
        flags.saveReference ? ensembleOutput(flags.saveReference, '--save-reference') : undefined,
        flags.retrainOld ? modelOutput(flags.retrainOld, '--retrain-old') : undefined,
      ],
      flags,
    );
    const { base, train, validation, trainRaw, preprocessing, addedClasses, dataRows, trainRows } = await loadUpdateData(flags);
    if (addedClasses.length) {
      ctx.warn(`the data adds ${addedClasses.length} class${addedClasses.length === 1 ? '' : 'es'} the base model lacks (${addedClasses.join(', ')}): the new model predicts all ${preprocessing.classNames.length}`);
    }
    const training = trainingFromFlags(flags);
    const architecture = await updateArchitecture(flags, base);
    const trainEnsemble = (label: string) => (req: EnsembleMemberRequest, members: number) => {
      ctx.log(label.replace('{m}', String(members)));
      return trainEnsembleFor(req, { members, jobs: flags.jobs }, ctx);
    };

    let retrainedOld: TrainedModel | undefined;
    if (flags.retrainOld) {
      const old = await loadUpdateData({ ...flags, data: flags.oldData! });
      const resolved = await resolveReference(
        method,
        { kind: 'ensemble', members: flags.members ?? DEFAULT_ENSEMBLE_MEMBERS, firstMember: OLD_ENSEMBLE_FIRST_MEMBER },
        { ...old, base, architecture: base.meta.architecture, training, seed: flags.seed, progress: ctx.progress, trainEnsemble: trainEnsemble(`retraining the old model toward its own ensemble of {m} on ${old.train.labels.length} examples of ${flags.oldData}`) },
        REFERENCE_FLAGS,
      );
      const oldEnsemble = resolved!.ensemble!;
      retrainedOld = await retrainOldModel({
        method, ensemble: oldEnsemble.members, architecture: base.meta.architecture, preprocessing: base.meta.preprocessing,
        train: old.train, validation: old.validation, training, seed: flags.seed, progress: ctx.progress,
      });
      retrainedOld.meta.recipe.data = flags.oldData;
      retrainedOld.meta.recipe.baseModel = flags.base;
    }

    const logged = flags.referencePredictions
      ? alignColumns(rowsOf(await readLoggedScores(flags.referencePredictions, base.meta.classNames, dataRows), trainRows, base.meta.classNames.length), base.meta.classNames, preprocessing.classNames, 'row-min')
      : undefined;
    ctx.log(`${describeMethod(method)}: ${trainRaw.labels.length} training examples, ${validation.labels.length} validation`);
    // the base model is one of the inputs: a resume checks its content (a retrained one is refused naming --base)
    const outcome = await runResumable({ path: flags.out, flag: '--out', inputs: commandInputs(cmd, flags) }, resumeSettings('update', flags), flags, ctx.log, async (partial) => {
      const outcome = await trainUpdate({
        base, train, validation, preprocessing, method, architecture, training, seed: flags.seed, progress: ctx.progress, log: ctx.log,
        reference: referenceSpec(logged),
        referenceNames: REFERENCE_FLAGS,
        logTerms: true,
        trainEnsemble: trainEnsemble('training the reference ensemble: {m} members (save it with --save-reference to reuse it)'),
        checkpoints: () => partial.nextStore(),
      });
      if (outcome.members) {
        // the new model is the ensemble itself: an ensemble directory
        await saveEnsemble(flags.out, { members: outcome.members, manifest: ensembleManifest(outcome.members, { ...datasetFingerprint(train), source: train.source }) });
      } else {
        outcome.trained.meta.recipe.baseModel = flags.base;
        outcome.trained.meta.recipe.data = flags.data;
        if (flags.reference) outcome.trained.meta.recipe.referenceDir = flags.reference;
        await saveModel(flags.out, outcome.trained);
      }
      return outcome;
    });
    if (outcome.members) {
      ctx.out(`saved ${flags.out}: the ensemble of ${outcome.members.length} models (${outcome.members.length}× the inference cost of one)`);
    } else {
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
    }
    const ensemble = outcome.reference?.trained ? outcome.reference.ensemble : undefined;
    if (ensemble && flags.saveReference) {
      await saveEnsemble(flags.saveReference, ensemble);
      ctx.out(`saved ${flags.saveReference}: the reference ensemble of ${ensemble.members.length} models`);
    }
    if (retrainedOld) {
      await saveModel(flags.retrainOld!, retrainedOld);
      ctx.out(`saved ${flags.retrainOld}: the old model retrained toward its own ensemble, validation accuracy ${formatRate(retrainedOld.meta.metrics.validationAccuracy)}`);
    }
    const sweep = outcome.members ? undefined : outcome.sweep;
    if (sweep && !sweep.budgetMet) {
      const lowest = Math.min(...sweep.points.map((p) => p.validationChurn));
      throw new DistilleryError(
        `--max-churn: no λ met the churn budget of ${formatRate(method.method === 'churn-budget' ? method.maxChurn : NaN)} (lowest validation churn ${formatRate(lowest)}); ${flags.out} holds the lowest-churn model — raise the budget or add training data`,
        BUDGET_NOT_MET_EXIT,
      );
    }
  });
}
