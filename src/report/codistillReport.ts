/** The Markdown report of a codistillation run (`<out>/report.md`), from its codistill.json. */
import type { CodistillResult } from '../codistill/results.js';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Steps trained with the peers' term of those after burn-in ("n/a" in results written before they were counted). */
export function distilled(w: CodistillResult['workers'][number], r: Pick<CodistillResult, 'burnInSteps'>): string {
  return w.distilledSteps === undefined ? 'n/a' : `${w.distilledSteps} of ${Math.max(0, w.steps - r.burnInSteps)}`;
}

export function renderCodistillReport(r: CodistillResult): string {
  const c = r.config;
  const lines = [
    `# Codistillation run ${r.runId}`,
    '',
    `${r.workers.length} workers × ${c.steps} steps (batch ${c.batchSize}, lr ${c.learningRate}), burn-in ${r.burnInSteps} steps, R = ${c.syncEvery}, w = ${c.weight}, overlap ${c.overlap}; data ${r.data.name} (${r.data.trainRows} training rows, ${r.data.validationRows} validation); store ${r.store}; ${r.wallSeconds.toFixed(1)} s.`,
    '',
    ...(r.warnings ?? []).flatMap((w) => [`**Warning:** ${w}.`, '']),
    '| worker | shard rows | validation accuracy | training s | restarts | distilled steps | silent peers | refused checkpoints |',
    '|---|---|---|---|---|---|---|---|',
    ...r.workers.map((w) => `| ${w.worker} | ${w.shardRows} | ${pct(w.valAccuracy)} | ${w.trainingSeconds.toFixed(1)} | ${w.restarts} | ${distilled(w, r)} | ${w.silentPeers.join(', ') || '—'} | ${w.refusedCheckpoints.length} |`),
    '',
    `Deliverable (best on validation): worker ${r.deliverable.worker}, ${pct(r.deliverable.valAccuracy)} (\`${r.deliverable.modelDir}\`). Ensemble of the ${r.ensemble.members} workers (paragon): ${pct(r.ensemble.valAccuracy)}. The workers disagree on ${pct(r.meanPairwiseDisagreement)} of validation rows (mean over pairs).`,
    '',
    '## Time to accuracy',
    '',
    `| step | ${r.workers.map((w) => `worker ${w.worker}: s, accuracy`).join(' | ')} |`,
    `|---|${r.workers.map(() => '---').join('|')}|`,
  ];
  const steps = [...new Set(r.workers.flatMap((w) => w.curve.map((p) => p.step)))].sort((a, b) => a - b);
  for (const s of steps) {
    lines.push(`| ${s} | ${r.workers.map((w) => {
      const p = w.curve.find((q) => q.step === s);
      return p ? `${p.seconds.toFixed(1)}, ${pct(p.valAccuracy)}` : '—';
    }).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
