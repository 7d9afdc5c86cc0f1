/**
 * Homogeneous ensembles (ELODI's reference, and the "paragon" of its comparison): m models
 * of one architecture, their logits averaged. Saved as a directory
 *   ensemble.json   the manifest: members, seeds, architecture, input shape, classes,
 *                   the fingerprint of the training data and of the preprocessing;
 *   member-1/ …     each member a model directory (models/io.ts);
 * written atomically, so a later update reuses it instead of retraining. A mismatched or
 * incomplete ensemble is refused with the file and the problem named.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { TrainedModel } from './types.js';
import { loadModel, saveModel } from './io.js';
import { InputError } from '../util/errors.js';
import { readProblem } from '../util/fsErrors.js';
import { metadataFileSignature, writeDirAtomic, type OutputTarget } from '../util/outputs.js';
import { LIBRARY_VERSION } from '../version.js';

export const ENSEMBLE_JSON = 'ensemble.json';

/** What an ensemble's training data was: row count and a SHA-256 over features, labels and classes. */
export interface DataFingerprint {
  rows: number;
  sha256: string;
}

/** SHA-256 of a dataset's model-ready features, labels and class names: equal data, equal fingerprint. */
export function datasetFingerprint(ds: Pick<Dataset, 'features' | 'labels' | 'classNames'>): DataFingerprint {
  const h = createHash('sha256');
  h.update(JSON.stringify(ds.classNames));
  h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  h.update(new Uint8Array(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  return { rows: ds.labels.length, sha256: h.digest('hex') };
}

/** SHA-256 of a preprocessing spec (members must share it with the model they guide). */
export function preprocessingFingerprint(spec: PreprocessingSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

const manifestSchema = z
  .object({
    format: z.literal('distillery-ensemble'),
    formatVersion: z.literal(1),
    libraryVersion: z.string(),
    members: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).min(2),
    seeds: z.array(z.number().int()),
    architecture: z.record(z.string(), z.unknown()),
    inputShape: z.array(z.number().int().positive()),
    classNames: z.array(z.string()).min(2),
    preprocessing: z.string(),
    data: z.object({ rows: z.number().int().nonnegative(), sha256: z.string(), source: z.string().optional() }).strict(),
    createdAt: z.string(),
  })
  .strict();
export type EnsembleManifest = z.infer<typeof manifestSchema>;

/** A loaded or freshly trained ensemble: its members and what it was trained on. */
export interface Ensemble {
  members: TrainedModel[];
  manifest: EnsembleManifest;
}

/** The manifest of `members` trained on data with fingerprint `data`. */
export function ensembleManifest(members: TrainedModel[], data: DataFingerprint & { source?: string }): EnsembleManifest {
  if (members.length < 2) throw new InputError('ensemble members', `an ensemble needs at least 2 members, got ${members.length}`);
  const first = members[0].meta;
  for (const [j, m] of members.entries()) checkMemberMatches(first, m.meta, `member ${j + 1}`);
  return {
    format: 'distillery-ensemble',
    formatVersion: 1,
    libraryVersion: LIBRARY_VERSION,
    members: members.map((_, j) => `member-${j + 1}`),
    seeds: members.map((m) => m.meta.seed),
    architecture: first.architecture as unknown as Record<string, unknown>,
    inputShape: first.inputShape.slice(),
    classNames: first.classNames.slice(),
    preprocessing: preprocessingFingerprint(first.preprocessing),
    data,
    createdAt: new Date().toISOString(),
  };
}

function checkMemberMatches(first: TrainedModel['meta'], meta: TrainedModel['meta'], where: string): void {
  if (meta.classNames.join('\u0000') !== first.classNames.join('\u0000')) {
    throw new InputError(where, `its classes (${meta.classNames.join(', ')}) differ from the first member's (${first.classNames.join(', ')})`);
  }
  if (meta.inputShape.join('x') !== first.inputShape.join('x')) {
    throw new InputError(where, `takes inputs of shape [${meta.inputShape.join(', ')}] but the first member takes [${first.inputShape.join(', ')}]`);
  }
  if (JSON.stringify(meta.architecture) !== JSON.stringify(first.architecture)) {
    throw new InputError(where, 'has a different architecture from the first member (an ensemble is homogeneous)');
  }
  if (preprocessingFingerprint(meta.preprocessing) !== preprocessingFingerprint(first.preprocessing)) {
    throw new InputError(where, 'was trained with different preprocessing from the first member');
  }
}

/** Writes the ensemble directory atomically: every member, then the manifest. */
export async function saveEnsemble(dir: string, ensemble: Ensemble): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    for (const [j, name] of ensemble.manifest.members.entries()) await saveModel(path.join(tmp, name), ensemble.members[j]);
    await fs.writeFile(path.join(tmp, ENSEMBLE_JSON), `${JSON.stringify(ensemble.manifest, null, 2)}\n`);
  });
}

/** Whether `dir` is an ensemble directory (holds ensemble.json). */
export async function isEnsembleDir(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(path.join(dir, ENSEMBLE_JSON))).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads an ensemble directory: the manifest (strict), then every member it lists, each
 * checked against the manifest. A missing or corrupt member, or one whose classes, input
 * shape, architecture or preprocessing differ, is an InputError naming its directory.
 */
export async function loadEnsemble(dir: string): Promise<Ensemble> {
  const file = path.join(dir, ENSEMBLE_JSON);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e: any) {
    throw new InputError(dir, e?.code === 'ENOENT' ? `is not an ensemble directory (no ${ENSEMBLE_JSON}; make one with \`distillery ensemble\`)` : readProblem(e));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(file, `is not a Distillery ensemble manifest: ${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  if (manifest.seeds.length !== manifest.members.length) throw new InputError(file, `lists ${manifest.members.length} members but ${manifest.seeds.length} seeds`);
  const members: TrainedModel[] = [];
  try {
    for (const name of manifest.members) {
      const memberDir = path.join(dir, name);
      const m = await loadModel(memberDir);
      members.push(m);
      const where = memberDir;
      if (m.meta.classNames.join('\u0000') !== manifest.classNames.join('\u0000')) throw new InputError(where, `its classes differ from ${ENSEMBLE_JSON}'s (${manifest.classNames.join(', ')})`);
      if (m.meta.inputShape.join('x') !== manifest.inputShape.join('x')) throw new InputError(where, `takes inputs of shape [${m.meta.inputShape.join(', ')}] but ${ENSEMBLE_JSON} says [${manifest.inputShape.join(', ')}]`);
      if (JSON.stringify(m.meta.architecture) !== JSON.stringify(manifest.architecture)) throw new InputError(where, `its architecture differs from ${ENSEMBLE_JSON}'s`);
      if (preprocessingFingerprint(m.meta.preprocessing) !== manifest.preprocessing) throw new InputError(where, `its preprocessing differs from ${ENSEMBLE_JSON}'s`);
    }
  } catch (e) {
    for (const m of members) m.model.dispose();
    throw e;
  }
  return { members, manifest };
}

/**
 * Refuses an ensemble that was not trained for this update: other classes, input shape,
 * preprocessing (than the model it guides) or other training rows (fingerprint).
 */
export function checkEnsembleFor(ensemble: Ensemble, source: string, meta: Pick<TrainedModel['meta'], 'inputShape' | 'classNames' | 'preprocessing'>, train: Dataset): void {
  const m = ensemble.manifest;
  if (m.classNames.join('\u0000') !== meta.classNames.join('\u0000')) throw new InputError(source, `its classes (${m.classNames.join(', ')}) are not the model's (${meta.classNames.join(', ')})`);
  if (m.inputShape.join('x') !== meta.inputShape.join('x')) throw new InputError(source, `its members take inputs of shape [${m.inputShape.join(', ')}] but the model takes [${meta.inputShape.join(', ')}]`);
  if (m.preprocessing !== preprocessingFingerprint(meta.preprocessing)) throw new InputError(source, 'was trained with other preprocessing than the base model (train it with `distillery ensemble --base` of this model)');
  const fp = datasetFingerprint(train);
  if (m.data.rows !== fp.rows || m.data.sha256 !== fp.sha256) {
    throw new InputError(source, `was trained on other data (${m.data.rows} rows, fingerprint ${m.data.sha256.slice(0, 12)}) than this update's ${fp.rows} training rows (${fp.sha256.slice(0, 12)}); use the same --data, --validation and --seed, or retrain it`);
  }
}

/**
 * One network whose logits are the mean of the members' logits (the paragon: m× the
 * inference cost of one member). It shares the members' weights: dispose the members, not
 * this model. Members are renamed `member_<j>` (nested models need distinct names).
 */
export function averagedModel(members: TrainedModel[]): tfl.LayersModel {
  if (members.length < 2) throw new Error('averagedModel needs at least 2 members');
  const input = tfl.input({ shape: members[0].meta.inputShape });
  const outputs = members.map((m, j) => {
    Object.defineProperty(m.model, 'name', { value: `member_${j + 1}`, configurable: true });
    return m.model.apply(input) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs: tfl.layers.average().apply(outputs) as tfl.SymbolicTensor, name: 'ensemble' });
}

/**
 * A model directory, or an ensemble directory as one model (the mean of its members'
 * logits): what `compare`, `gate` and `predict` accept for a model.
 */
export async function loadModelOrEnsemble(dir: string): Promise<TrainedModel> {
  if (!(await isEnsembleDir(dir))) return loadModel(dir);
  const { members } = await loadEnsemble(dir);
  const first = members[0].meta;
  return {
    model: averagedModel(members),
    meta: { ...first, id: undefined, recipe: { ...first.recipe, method: 'ensemble', params: { members: members.length } } },
  };
}

/** An ensemble directory as an output (util/outputs.ts): Distillery's when its ensemble.json says so. */
export function ensembleOutput(dir: string, flag = '--out'): OutputTarget {
  return { path: dir, type: 'dir', what: 'ensemble directory', flag, isOurs: metadataFileSignature(ENSEMBLE_JSON, /"format"\s*:\s*"distillery-ensemble"/) };
}
