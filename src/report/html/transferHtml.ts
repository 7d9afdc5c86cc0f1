/**
 * The HTML report of a transfer experiment (`distillery transfer`, `run` of kind transfer):
 * the three students' accuracy with intervals, each seed's chosen chain drawn as a chain of
 * models with the hop methods and accuracies, the chains the search evaluated, and the set-up.
 */
import { lazy } from '../../util/lazy.js';

const toYaml = (value: unknown): string => lazy<typeof import('yaml')>('yaml')().stringify(value);
import { ARMS, ARM_LABELS, type TransferExperimentResult, type TransferTrialOutcome } from '../../experiments/transferExperiment.js';
import { renderVegaLiteSvg } from '../plot.js';
import { formatMeanCI, formatRate } from '../table.js';
import { transferPerSeedTable, transferSummaryTable } from '../transferTables.js';
import { pointsWithIntervalsSpec } from './charts.js';
import { h, htmlTable, inlineSvg, keyValues, pre, renderPage, type Html, type Section } from './page.js';

/** teacher → intermediates → student, with each model's accuracy and each hop's method. */
function chainDiagram(t: TransferTrialOutcome): Html {
  const arm = t.arms.chain;
  const nodes: Html[] = [h`<div class="node"><b>teacher ${t.teacher.name}</b><span>test ${formatRate(t.teacher.testAccuracy)}</span></div>`];
  arm.hops.forEach((hop, i) => {
    const last = i === arm.hops.length - 1;
    const inter = last ? null : t.intermediates.find((m) => m.chain.join('/') === arm.intermediates.slice(0, i + 1).join('/'));
    nodes.push(h`<div class="arrow">→<small>${hop.method}</small></div>`);
    nodes.push(
      last
        ? h`<div class="node"><b>student ${t.student.name}</b><span>val. ${formatRate(hop.validationAccuracy)} · test ${formatRate(arm.testAccuracy)}</span></div>`
        : h`<div class="node"><b>${hop.to}</b><span>val. ${formatRate(hop.validationAccuracy)}${inter ? ` · test ${formatRate(inter.testAccuracy)}` : ''}</span></div>`,
    );
  });
  if (!arm.hops.length) nodes.push(h`<div class="arrow">→</div><div class="node"><b>student ${t.student.name}</b><span>no transfer kept · test ${formatRate(arm.testAccuracy)}</span></div>`);
  return h`<div class="chain">${nodes}</div>`;
}

/** The transfer experiment's report as one self-contained HTML document. */
export async function renderTransferHtml(result: TransferExperimentResult): Promise<string> {
  const c = result.config;
  const level = Math.round(c.level * 100);
  const engine = result.engine ? `${result.engine.backend} (${result.engine.threads} thread(s))` : 'n/a';
  const t0 = result.trials[0];
  const pct = (x: number | null) => (x === null ? undefined : x * 100);
  const rows = [
    { label: 'teacher', value: result.teacherTestAccuracy.mean * 100, low: pct(result.teacherTestAccuracy.low), high: pct(result.teacherTestAccuracy.high) },
    ...result.summary.map((s) => ({ label: `student: ${s.label}`, value: s.testAccuracy.mean * 100, low: pct(s.testAccuracy.low), high: pct(s.testAccuracy.high) })),
  ];
  const plot = await renderVegaLiteSvg(pointsWithIntervalsSpec('Test accuracy (mean over seeds)', 'test accuracy (%)', rows));
  const byArm = Object.fromEntries(result.summary.map((s) => [s.arm, s]));
  const sections: Section[] = [
    {
      id: 'students',
      title: 'Students',
      intro: `Mean ± ${level}% Student-t half-width over ${result.trials.length} seed(s); differences are paired by seed. 1-hop falls back to no transfer, and the chain to 1-hop, when they do not improve validation accuracy.`,
      body: h`<div class="grid2">${inlineSvg(plot, 'test accuracy of teacher and students')}${htmlTable(transferSummaryTable(result))}</div>`,
    },
    {
      id: 'chain',
      title: 'Transfer chain',
      intro: 'Per seed, the chain the search chose: each arrow is one hop, labelled with the method that won it on validation accuracy.',
      body: h`${result.trials.map((t) => h`<h3>Seed ${String(t.seed)}</h3>${chainDiagram(t)}`)}`,
    },
    {
      id: 'evaluated',
      title: 'Chains evaluated',
      body: h`${result.trials.map(
        (t) => h`<h3>Seed ${String(t.seed)}</h3>${htmlTable({
          headers: ['chain', 'hop methods', 'student validation'],
          rows: t.search.evaluated.map((e) => [['teacher', ...e.names, t.student.name].join(' → '), e.hops.map((x) => `${x.to}: ${x.method} (${formatRate(x.validationAccuracy)})`).join('; '), formatRate(e.validationAccuracy)]),
          align: ['left', 'left', 'right'],
        })}`,
      )}`,
    },
    { id: 'seeds', title: 'Per seed', body: htmlTable({ ...transferPerSeedTable(result), align: ['left'] }) },
    {
      id: 'setup',
      title: 'Set-up',
      body: h`${keyValues([
        ['Data', `${result.data.source}: ${result.data.classes} classes; per seed ${result.data.trainExamples} training, ${result.data.validationExamples} validation; ${result.data.testExamples} test examples`],
        ['Teacher', `${t0?.teacher.name ?? ''} (${t0?.teacher.parameters ?? ''} parameters)${'path' in c.teacher ? `, from ${c.teacher.path}` : ', trained per seed'}`],
        ['Student', `${t0?.student.name ?? ''} (${t0?.student.parameters ?? ''} parameters)`],
        ['Seeds', c.seeds.join(', ')],
        ['Engine', engine],
        ['Distillery', `${result.libraryVersion}; started ${result.startedAt}; ${result.durationSeconds.toFixed(0)} s`],
      ])}<h3>Configuration</h3>${pre(toYaml(c), 'config')}`,
    },
  ];
  return renderPage({
    kind: 'Transfer experiment',
    title: result.name,
    meta: [`teacher ${t0?.teacher.name ?? ''} → student ${t0?.student.name ?? ''} on ${result.data.source}; ${result.trials.length} seed(s)`, `Distillery ${result.libraryVersion} · engine ${engine} · ${result.startedAt}`],
    cards: [
      { label: 'Teacher', value: formatRate(result.teacherTestAccuracy.mean), detail: 'test accuracy' },
      ...ARMS.filter((a) => byArm[a]).map((a) => ({ label: `Student: ${ARM_LABELS[a]}`, value: formatRate(byArm[a].testAccuracy.mean), detail: byArm[a].testAccuracy.halfWidth === null ? 'test accuracy' : `test accuracy ± ${(byArm[a].testAccuracy.halfWidth! * 100).toFixed(2)}` })),
      { label: 'Chain vs 1-hop', value: formatRate(result.differences.chainVsOneHop.test.mean, { signed: true }), detail: `test accuracy, paired by seed: ${formatMeanCI(result.differences.chainVsOneHop.test, { signed: true })}` },
    ],
    sections,
  });
}
