/** The transfer experiment's report: no transfer, 1-hop and the chain side by side, the chains and the search. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { lazy } from '../util/lazy.js';

const toYaml = (value: unknown): string => lazy<typeof import('yaml')>('yaml')().stringify(value);
import type { TransferExperimentResult } from '../experiments/transferExperiment.js';
import { describeMethod } from '../methods/registry.js';
import { writeDirAtomic } from '../util/outputs.js';
import { formatMeanCI, formatRate, renderMarkdownTable, renderTextTable } from './table.js';
import { chainText, transferPerSeedTable, transferSummaryTable } from './transferTables.js';
import { renderTransferHtml } from './html/transferHtml.js';
import { HTML_REPORT_FILE } from './html/page.js';

export { transferSummaryTable } from './transferTables.js';

/** Plain-text summary for a terminal. */
export function renderTransferText(result: TransferExperimentResult): string {
  const level = Math.round(result.config.level * 100);
  const t0 = result.trials[0];
  return [
    `${result.name}: teacher ${t0?.teacher.name} → student ${t0?.student.name}; ${result.trials.length} seed(s), ${result.data.testExamples} test examples; mean ± ${level}% t-interval over seeds`,
    renderTextTable(transferSummaryTable(result)),
    '',
    renderTextTable(transferPerSeedTable(result)),
  ].join('\n');
}

/** The Markdown report: set-up, summary, per-seed chains, every chain evaluated, search decisions, intermediates. */
export function renderTransferMarkdown(result: TransferExperimentResult): string {
  const c = result.config;
  const level = Math.round(c.level * 100);
  const t0 = result.trials[0];
  const lines = [
    `# ${result.name}`,
    '',
    `Distillery ${result.libraryVersion}, engine ${result.engine ? `${result.engine.backend} (${result.engine.threads} thread(s))` : 'n/a'}, started ${result.startedAt}, ${result.durationSeconds.toFixed(0)} s.`,
    '',
    '## Set-up',
    '',
    `- Data: \`${result.data.source}\`, ${result.data.classes} classes; per seed ${result.data.trainExamples} training and ${result.data.validationExamples} validation rows; ${result.data.testExamples} held-out test examples.`,
    `- Teacher: ${'path' in c.teacher ? `\`${c.teacher.path}\`` : 'trained per seed'} (${t0?.teacher.name}, ${t0?.teacher.parameters} parameters; test accuracy ${formatMeanCI(result.teacherTestAccuracy)}).`,
    `- Student: ${t0?.student.name} (${t0?.student.parameters} parameters). Candidates (${c.candidates === 'auto' ? `auto ladder, ${c.rungs} rungs` : 'given'}): ${t0?.search.candidates.join(', ') || 'none'}.`,
    `- Per-hop methods tried (chosen on validation accuracy): ${[...new Set(result.trials.flatMap((t) => t.search.evaluated.flatMap((e) => e.hops.flatMap((h) => h.tried.map((x) => x.method)))))].join('; ')}.`,
    `- Search: ${c.search}; seeds ${c.seeds.join(', ')}; training ${c.training.optimizer}, learning rate ${c.training.learningRate}, batch ${c.training.batchSize}, at most ${c.training.epochs} epochs, patience ${c.training.patience} on validation ${c.training.monitor}.`,
    '',
    '## Results',
    '',
    `Mean ± ${level}% Student-t half-width over ${result.trials.length} seed(s); differences are paired by seed. 1-hop falls back to no transfer, and the chain to 1-hop, when they do not improve validation accuracy.`,
    '',
    renderMarkdownTable(transferSummaryTable(result)),
    '',
    '## Per seed',
    '',
    renderMarkdownTable(transferPerSeedTable(result)),
    '',
    '## Chains evaluated (student validation accuracy)',
    '',
  ];
  for (const t of result.trials) {
    lines.push(`Seed ${t.seed}:`, '');
    lines.push(
      renderMarkdownTable({
        headers: ['chain', 'hop methods', 'student validation'],
        rows: t.search.evaluated.map((e) => [chainText(t, e.names), e.hops.map((h) => `${h.to}: ${h.method} (${formatRate(h.validationAccuracy)})`).join('; '), formatRate(e.validationAccuracy)]),
      }),
      '',
    );
    if (t.search.decisions.length) {
      lines.push(
        renderMarkdownTable({
          headers: ['candidate', 'student validation', 'best before', 'decision'],
          rows: t.search.decisions.map((d) => [d.candidate, formatRate(d.validationAccuracy), formatRate(d.bestBefore), d.accepted ? 'added' : 'not added']),
        }),
        '',
      );
    }
  }
  lines.push('## Intermediate models', '');
  lines.push(
    renderMarkdownTable({
      headers: ['seed', 'chain prefix', 'hop method', 'validation', 'test', 'methods tried (validation)'],
      rows: result.trials.flatMap((t) =>
        t.intermediates.map((m) => [String(t.seed), ['teacher', ...m.chain].join(' → '), m.hop.method, formatRate(m.hop.validationAccuracy), formatRate(m.testAccuracy), m.hop.tried.map((x) => `${x.method} ${formatRate(x.validationAccuracy)}`).join('; ')]),
      ),
    }),
    '',
  );
  lines.push(`Models: \`seed-<seed>/student-no-transfer\`, \`student-1-hop\`, \`student-chain\` and \`intermediates/<chain prefix>\` in this directory (methods: ${[...new Set(result.trials.flatMap((t) => t.arms.chain.hops.map((h) => describeMethod(h.spec))))].join(', ')}).`);
  return lines.join('\n') + '\n';
}

/**
 * Writes the run directory atomically: results.json, report.md, report.html, summary.txt, config.yaml, and
 * the models the trials saved under `stagingDir` (moved in; the staging directory is removed).
 */
export async function writeTransferRun(dir: string, result: TransferExperimentResult, stagingDir?: string): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    if (stagingDir) {
      for (const entry of await fs.readdir(stagingDir).catch(() => [] as string[])) await fs.rename(path.join(stagingDir, entry), path.join(tmp, entry));
    }
    await fs.writeFile(path.join(tmp, 'results.json'), JSON.stringify(result, null, 2));
    await fs.writeFile(path.join(tmp, 'report.md'), renderTransferMarkdown(result));
    await fs.writeFile(path.join(tmp, HTML_REPORT_FILE), await renderTransferHtml(result));
    await fs.writeFile(path.join(tmp, 'summary.txt'), renderTransferText(result) + '\n');
    await fs.writeFile(path.join(tmp, 'config.yaml'), toYaml(result.config));
  });
  if (stagingDir) await fs.rm(stagingDir, { recursive: true, force: true });
}
