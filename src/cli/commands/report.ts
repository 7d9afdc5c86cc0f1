import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { UpdateExperimentResult } from '../../experiments/updateExperiment.js';
import type { TransferExperimentResult } from '../../experiments/transferExperiment.js';
import { RUN_RESULTS } from '../../report/experimentReport.js';
import { renderExperimentHtml } from '../../report/html/experimentHtml.js';
import { renderTransferHtml } from '../../report/html/transferHtml.js';
import { renderCodistillHtml } from '../../report/html/codistillHtml.js';
import { RESULT_FORMAT as CODISTILL_FORMAT, RUN_JSON, type CodistillResult } from '../../codistill/results.js';
import { renderComparisonHtml, type ComparisonView } from '../../report/html/comparisonHtml.js';
import { HTML_REPORT_FILE } from '../../report/html/page.js';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { terminal } from '../terminal.js';
import { htmlOutput, htmlPathFor } from '../htmlReport.js';
import { PATH_KINDS, pathArgument, pathOption } from '../pathOptions.js';

interface ReportFlags extends OutputFlags {
  out?: string;
}

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new InputError(file, 'not found or not readable');
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  } catch {
    // reported below
  }
  throw new InputError(file, 'is not a JSON object');
}

/** The comparison view saved in a compare or gate JSON report. */
function comparisonView(json: Json, file: string): ComparisonView {
  const isGate = json.format === 'distillery-gate';
  const { format: _, verdict, policy, comparison, ...rest } = json;
  const detail = rest as unknown as Omit<ComparisonView, 'report' | 'gate'>;
  const report = (isGate ? comparison : Object.fromEntries(Object.entries(rest).filter(([k]) => !VIEW_KEYS.has(k)))) as ComparisonView['report'];
  if (!Array.isArray(detail.classNames) || !Array.isArray(detail.flipMatrix) || !Array.isArray(detail.flippedExamples) || !report?.metrics) {
    throw new InputError(file, 'has no flip detail (written by an older Distillery?): run compare again with --json');
  }
  return { ...detail, report, ...(isGate ? { gate: { verdict: verdict as NonNullable<ComparisonView['gate']>['verdict'], policy } } : {}) };
}
const VIEW_KEYS = new Set(['old', 'new', 'data', 'classNames', 'flipMatrix', 'flippedExamples', 'libraryVersion', 'engine', 'createdAt', 'slices', 'regions']);

/** The report of a run directory or of a compare/gate JSON file, and where it goes by default. */
async function renderFor(target: string): Promise<{ html: string; out: string }> {
  const stat = await fs.stat(target).catch(() => null);
  if (!stat) throw new InputError(target, 'not found (expected a run directory or a compare/gate JSON report)');
  if (stat.isDirectory()) {
    const codistill = path.join(target, RUN_JSON);
    if (await fs.stat(codistill).catch(() => null)) {
      const json = await readJson(codistill);
      if (json.format !== CODISTILL_FORMAT) throw new InputError(codistill, 'is not the results of a Distillery codistillation run');
      return { html: await renderCodistillHtml(json as unknown as CodistillResult), out: path.join(target, HTML_REPORT_FILE) };
    }
    const file = path.join(target, RUN_RESULTS);
    const json = await readJson(file);
    const out = path.join(target, HTML_REPORT_FILE);
    if (json.kind === 'transfer') return { html: await renderTransferHtml(json as unknown as TransferExperimentResult), out };
    if (Array.isArray(json.trials) && Array.isArray(json.summary) && json.config) return { html: await renderExperimentHtml(json as unknown as UpdateExperimentResult), out };
    throw new InputError(file, 'is not the results of a Distillery run');
  }
  const json = await readJson(target);
  if (json.format !== 'distillery-comparison' && json.format !== 'distillery-gate') {
    throw new InputError(target, 'is not a Distillery compare or gate JSON report (or give a run directory)');
  }
  return { html: await renderComparisonHtml(comparisonView(json, target)), out: htmlPathFor({ json: target })! };
}

export function reportCommand(): Command {
  const cmd = new Command('report')
    .description('write the HTML report (one self-contained file) of a run directory, or of a JSON report from compare or gate')
    .addArgument(pathArgument('<run-dir|json>', 'a run directory (demo, run, transfer, codistill) or a JSON file from `compare --json` / `gate --json`', PATH_KINDS.fileOrDir))
    .addOption(pathOption('--out <file>', 'HTML file to write (default: report.html in the run directory; cmp.json → cmp.html)', PATH_KINDS.outputFile, { output: htmlOutput }));
  addOutputOptions(cmd, { resumable: false });
  cmd.addHelpText('after', '\nExamples:\n  distillery report runs/letter-update-2026-01-01T00-00-00\n  distillery report cmp.json --out review.html\n');
  return cmd.action(async (target: string, flags: ReportFlags) => {
    const { html, out: defaultOut } = await renderFor(target);
    const out = flags.out ?? defaultOut;
    await checkOutputs([htmlOutput(out, '--out')], flags);
    await writeFileAtomic(out, html);
    terminal.out(`wrote ${out}\n`);
  });
}
