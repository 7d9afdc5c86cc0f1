/**
 * Multi-hop transfer (Dhurandhar & Pedapati 2022, methods.md §4): teacher → m1 → … → student,
 * each hop a tuned one-hop transfer from the previous model. The chain is chosen on the
 * student's validation accuracy (our choice; the paper's rule was not available):
 *
 * - greedy: start from 1-hop (teacher → student); for each candidate, most complex first,
 *   append it to the chain's intermediates and keep it only if the student's validation
 *   accuracy rises above the best so far;
 * - exhaustive: every subset of the candidates (in complexity order), the best validation
 *   accuracy wins, fewer intermediates on ties.
 *
 * Each hop's method and parameters are chosen on validation data too (tuneHop): an
 * intermediate's hop on the intermediate's own accuracy, the last hop on the student's.
 * With 'plain' first in the grid, 1-hop is never worse than no transfer on validation, and
 * the chain never worse than 1-hop. Intermediates are trained once per chain prefix and
 * teacher logits once per hop teacher (ReferenceCache).
 */
import type { Dataset } from '../../data/types.js';
import type { MlpConfig } from '../../models/config.js';
import type { TrainingConfig } from '../../models/recipe.js';
import type { TrainedModel } from '../../models/types.js';
import { disposeClassifier, type LocalClassifier as Classifier } from '../../models/classifier.js';
import type { ProgressSink } from '../../train/progress.js';
import { ReferenceCache } from '../references.js';
import type { UpdateMethodSpec } from '../registry.js';
import { tuneHop, type HopTrial, type TunedHop } from './hop.js';
import { describeArchitecture, type StudentConfig } from './students.js';

export type ChainSearch = 'greedy' | 'exhaustive';
/** Largest candidate set the exhaustive search accepts (2^8 chains). */
export const MAX_EXHAUSTIVE_CANDIDATES = 8;

export interface ChainSearchRequest {
  teacher: TrainedModel;
  student: StudentConfig;
  /** Intermediate models, in any order (the search sorts them most complex first). */
  candidates: { config: MlpConfig; complexity: number }[];
  /** The methods tried on every hop ('plain' first: the fallback). */
  grid: UpdateMethodSpec[];
  search: ChainSearch;
  train: Dataset;
  validation: Dataset;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

/** A hop as the run records it. */
export interface HopRecord {
  from: string;
  to: string;
  method: string;
  spec: UpdateMethodSpec;
  validationAccuracy: number;
  tried: HopTrial[];
}

/** A chain evaluated by the search: its intermediates (by candidate index), hops and the student's validation accuracy. */
export interface ChainRecord {
  intermediates: number[];
  names: string[];
  hops: HopRecord[];
  validationAccuracy: number;
}

/** One step of the greedy search (or the exhaustive search's pick). */
export interface SearchDecision {
  candidate: string;
  chain: string[];
  validationAccuracy: number;
  bestBefore: number;
  accepted: boolean;
}

export interface ChainResult {
  record: ChainRecord;
  student: Classifier;
}

export interface ChainSearchResult {
  /** The student without transfer (plain training). */
  none: { student: Classifier; validationAccuracy: number };
  oneHop: ChainResult;
  chain: ChainResult;
  /** Every chain evaluated, in order. */
  evaluated: ChainRecord[];
  decisions: SearchDecision[];
  /** Every intermediate model trained, by chain prefix (for saving), with its hop. */
  intermediates: { prefix: number[]; name: string; model: Classifier; hop: HopRecord }[];
  candidates: string[];
}

/** Seed of the model at position `depth` of a chain (1 = first intermediate); the student's is `seed·1000 + 1` as in updates. */
export function chainModelSeed(seed: number, depth: number): number {
  return seed * 1000 + 1 + depth * 10;
}

export async function searchChain(req: ChainSearchRequest): Promise<ChainSearchResult> {
  const log = req.log ?? (() => {});
  const candidates = [...req.candidates].sort((a, b) => b.complexity - a.complexity);
  const names = candidates.map((c) => describeArchitecture(c.config));
  const studentName = describeArchitecture(req.student);
  const references = new ReferenceCache();
  const intermediates = new Map<string, { prefix: number[]; name: string; model: Classifier; hop: HopRecord }>();
  const students = new Map<string, { tuned: TunedHop; record: ChainRecord }>();
  // Named probe layers refer to the teacher's layers; the hops from intermediates probe their top layers.
  const gridFrom = (root: boolean) => (root ? req.grid : req.grid.map((s) => (s.method === 'profweight' ? { ...s, layers: undefined } : s)));
  const hopBase = { train: req.train, validation: req.validation, references, training: req.training, progress: req.progress };

  const teacherOf = async (prefix: number[]): Promise<{ teacher: TrainedModel; name: string; hops: HopRecord[] }> => {
    if (prefix.length === 0) return { teacher: req.teacher, name: 'teacher', hops: [] };
    const key = prefix.join(',');
    let entry = intermediates.get(key);
    const parent = await teacherOf(prefix.slice(0, -1));
    if (!entry) {
      const index = prefix[prefix.length - 1];
      const name = names[index];
      const tuned = await tuneHop(
        { ...hopBase, teacher: parent.teacher, student: candidates[index].config, seed: chainModelSeed(req.seed, prefix.length), label: `${parent.name} → ${name}` },
        gridFrom(prefix.length === 1),
        log,
      );
      const hop: HopRecord = { from: parent.name, to: name, method: tuned.method, spec: tuned.spec, validationAccuracy: tuned.validationAccuracy, tried: tuned.tried };
      entry = { prefix, name, model: tuned.model, hop };
      intermediates.set(key, entry);
    }
    if (entry.model.kind !== 'network') throw new Error('intermediate models are networks');
    return { teacher: entry.model.trained, name: entry.name, hops: [...parent.hops, entry.hop] };
  };

  const evaluated: ChainRecord[] = [];
  const studentThrough = async (prefix: number[]): Promise<{ tuned: TunedHop; record: ChainRecord }> => {
    const key = prefix.join(',');
    const cached = students.get(key);
    if (cached) return cached;
    const { teacher, name, hops } = await teacherOf(prefix);
    const tuned = await tuneHop(
      { ...hopBase, teacher, student: req.student, seed: chainModelSeed(req.seed, 0), label: `${name} → ${studentName}` },
      gridFrom(prefix.length === 0),
      log,
      prefix.length === 0,
    );
    const last: HopRecord = { from: name, to: studentName, method: tuned.method, spec: tuned.spec, validationAccuracy: tuned.validationAccuracy, tried: tuned.tried };
    const record: ChainRecord = { intermediates: prefix, names: prefix.map((i) => names[i]), hops: [...hops, last], validationAccuracy: tuned.validationAccuracy };
    evaluated.push(record);
    log(`chain teacher → ${[...record.names, studentName].join(' → ')}: student validation accuracy ${(100 * record.validationAccuracy).toFixed(2)}%`);
    const entry = { tuned, record };
    students.set(key, entry);
    return entry;
  };

  const oneHop = await studentThrough([]);
  const decisions: SearchDecision[] = [];
  let best = oneHop;
  if (req.search === 'greedy') {
    let chosen: number[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const trial = await studentThrough([...chosen, i]);
      const accepted = trial.record.validationAccuracy > best.record.validationAccuracy;
      decisions.push({ candidate: names[i], chain: trial.record.names, validationAccuracy: trial.record.validationAccuracy, bestBefore: best.record.validationAccuracy, accepted });
      log(`candidate ${i + 1}/${candidates.length} ${names[i]}: ${accepted ? 'added' : 'not added'} (student validation ${(100 * trial.record.validationAccuracy).toFixed(2)}% vs best ${(100 * best.record.validationAccuracy).toFixed(2)}%)`);
      if (accepted) {
        best = trial;
        chosen = [...chosen, i];
      }
    }
  } else {
    if (candidates.length > MAX_EXHAUSTIVE_CANDIDATES) throw new Error(`exhaustive search takes at most ${MAX_EXHAUSTIVE_CANDIDATES} candidates`);
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const prefix = candidates.map((_, i) => i).filter((i) => mask & (1 << i));
      const trial = await studentThrough(prefix);
      const better =
        trial.record.validationAccuracy > best.record.validationAccuracy ||
        (trial.record.validationAccuracy === best.record.validationAccuracy && prefix.length < best.record.intermediates.length);
      decisions.push({ candidate: trial.record.names.join(' → '), chain: trial.record.names, validationAccuracy: trial.record.validationAccuracy, bestBefore: best.record.validationAccuracy, accepted: better });
      if (better) best = trial;
    }
  }

  // The student without transfer: 1-hop's plain trial when the grid has one (same seed, same model), else trained now.
  let none: ChainSearchResult['none'];
  const plainTrial = oneHop.tuned.tried.find((t) => t.spec.method === 'plain');
  if (oneHop.tuned.plain && plainTrial) none = { student: oneHop.tuned.plain, validationAccuracy: plainTrial.validationAccuracy };
  else {
    const plain = await tuneHop({ ...hopBase, teacher: req.teacher, student: req.student, seed: chainModelSeed(req.seed, 0), label: `no transfer → ${studentName}` }, [{ method: 'plain' }], log);
    none = { student: plain.model, validationAccuracy: plain.validationAccuracy };
  }
  // Free the students of chains not kept.
  for (const entry of students.values()) if (entry !== oneHop && entry !== best) disposeClassifier(entry.tuned.model);
  return {
    none,
    oneHop: { record: oneHop.record, student: oneHop.tuned.model },
    chain: { record: best.record, student: best.tuned.model },
    evaluated,
    decisions,
    intermediates: [...intermediates.values()],
    candidates: names,
  };
}
