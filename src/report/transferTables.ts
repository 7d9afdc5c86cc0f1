/** The tables of a transfer experiment's reports (text, Markdown, HTML). */
import { ARMS, ARM_LABELS, type TransferExperimentResult, type TransferTrialOutcome } from '../experiments/transferExperiment.js';
import type { MeanCI } from '../metrics/bootstrap.js';
import { formatMeanCI, formatRate, type Table } from './table.js';

const signed = (m: MeanCI) => formatMeanCI(m, { signed: true });
/** teacher → intermediates → student. */
export const chainText = (t: TransferTrialOutcome, names: string[]) => ['teacher', ...names, t.student.name].join(' → ');

/** Test and validation accuracy of each arm (mean ± t-interval over seeds), and the paired differences. */
export function transferSummaryTable(result: TransferExperimentResult): Table {
  const d = result.differences;
  const vsOneHop: Record<string, MeanCI | null> = { none: null, oneHop: null, chain: d.chainVsOneHop.test };
  const vsNone: Record<string, MeanCI | null> = { none: null, oneHop: d.oneHopVsNone.test, chain: d.chainVsNone.test };
  return {
    headers: ['student', 'test accuracy', 'validation accuracy', 'test vs no transfer', 'test vs 1-hop'],
    rows: result.summary.map((s) => [
      `${ARM_LABELS[s.arm]}`,
      formatMeanCI(s.testAccuracy),
      formatMeanCI(s.validationAccuracy),
      vsNone[s.arm] ? signed(vsNone[s.arm]!) : '—',
      vsOneHop[s.arm] ? signed(vsOneHop[s.arm]!) : '—',
    ]),
  };
}

/** Per seed: teacher and students, the hop methods and the chain. */
export function transferPerSeedTable(result: TransferExperimentResult): Table {
  return {
    headers: ['seed', 'teacher test', ...ARMS.map((a) => `${ARM_LABELS[a]} test (val)`), '1-hop method', 'chain', 'chain methods'],
    rows: result.trials.map((t) => [
      String(t.seed),
      formatRate(t.teacher.testAccuracy),
      ...ARMS.map((a) => `${formatRate(t.arms[a].testAccuracy)} (${formatRate(t.arms[a].validationAccuracy)})`),
      t.arms.oneHop.hops[0]?.method ?? '',
      chainText(t, t.arms.chain.intermediates),
      t.arms.chain.hops.map((h) => h.method).join(' | '),
    ]),
  };
}

