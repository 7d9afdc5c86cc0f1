import { Command } from 'commander';
import { renderComparison } from '../../report/table.js';
import { compareChain } from '../compareChain.js';
import { flipsJsonl, flipsOutput } from '../flipsFile.js';
import { InputError } from '../../util/errors.js';
import { fileSignature, writeOutputs, type OutputTarget } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import { renderComparisonHtml } from '../../report/html/comparisonHtml.js';
import { htmlOutput, htmlPathFor } from '../htmlReport.js';
import { addComparisonOptions, comparisonFromFlags, jsonOutput, type ComparisonFlags } from '../comparison.js';
import { addSliceOptions, sliceRequestFromFlags, type SliceFlags } from '../sliceOptions.js';
import { renderSlices } from '../../report/sliceTables.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

export interface CompareFlags extends ComparisonFlags, OutputFlags, SliceFlags {
  json?: string;
  html?: string;
  markdown?: string;
  flips?: string;
  chain?: string[];
  topClasses: number;
}

const COMPARISON_FORMAT = 'distillery-comparison';

function markdownOutput(file: string): OutputTarget {
  return { path: file, type: 'file', what: 'Markdown comparison report', flag: '--markdown', isOurs: fileSignature(/^### Old vs new model on \d+ examples/) };
}

export function compareCommand(globals: () => GlobalFlags): Command {
  const cmd = addComparisonOptions(
    new Command('compare').description('compare an old and a new model (or two prediction files) on labelled data: accuracy, churn, NFR/PFR, PD with bootstrap CIs'),
    { pairOptional: true },
  )
    .addOption(pathOption('--chain <models...>', 'a release history instead of --old/--new: pairwise churn and NFR between these versions, oldest first', PATH_KINDS.fileOrDir))
    .addOption(pathOption('--json <file>', 'also write the full report as JSON', PATH_KINDS.outputFile))
    .addOption(pathOption('--markdown <file>', 'also write the report as Markdown', PATH_KINDS.outputFile, { output: markdownOutput }))
    .addOption(pathOption('--html <file>', 'also write the HTML report (default: next to --json, e.g. cmp.json → cmp.html)', PATH_KINDS.outputFile, { output: htmlOutput }))
    .addOption(pathOption('--flips <file>', 'also write every flipped example as JSON Lines (for review or labelling)', PATH_KINDS.outputFile, { output: flipsOutput }))
    .option('--top-classes <n>', 'classes shown in the per-class flip table', parseInteger('top-classes', 1), 10);
  addSliceOptions(cmd);
  addOutputOptions(cmd, { resumable: false });
  cmd.addHelpText(
    'after',
    "\nExamples:\n  distillery compare --old models/v1 --new models/v2 --data test.csv --json cmp.json\n  distillery compare --old v1.csv --new v2.csv --data test.csv\n  distillery compare --old models/v1 --new models/v2 --data test.csv --slice-by 'region,income:bins=4,region*true-class' --find-regions\n",
  );
  return cmd.action(async (flags: CompareFlags) => {
    const ctx = await createContext(globals());
    if (flags.chain) {
      const sliceFlag = flags.sliceBy ? '--slice-by' : flags.findRegions ? '--find-regions' : flags.minSliceSize !== undefined ? '--min-slice-size' : undefined;
      if (sliceFlag) throw new InputError(sliceFlag, 'does not apply to --chain (compare two versions with --old and --new)');
      return compareChain(flags as CompareFlags & { chain: string[] }, ctx.out);
    }
    if (!flags.old || !flags.new) throw new InputError(flags.old ? '--new' : '--old', 'is required (or give --chain v1 v2 …)');
    const html = htmlPathFor(flags);
    await checkOutputs([flags.json ? jsonOutput(flags.json, '--json', COMPARISON_FORMAT) : undefined, flags.markdown ? markdownOutput(flags.markdown) : undefined, html ? htmlOutput(html, flags.html ? '--html' : '--json') : undefined, flags.flips ? flipsOutput(flags.flips) : undefined], flags);
    const slicing = sliceRequestFromFlags(flags);
    const view = await comparisonFromFlags(flags, ctx.engine, slicing);
    const report = view.report;
    const main = renderComparison(report, { topClasses: flags.topClasses });
    const bySlice = renderSlices(view.slices, view.regions);
    const rendered = { text: main.text + bySlice.text, markdown: main.markdown + bySlice.markdown };
    const { report: _, ...detail } = view;
    const output = { format: COMPARISON_FORMAT, ...report, ...detail };
    // all files or none
    await writeOutputs([
      ...(flags.json ? [{ path: flags.json, data: JSON.stringify(output, null, 2) + '\n' }] : []),
      ...(flags.markdown ? [{ path: flags.markdown, data: rendered.markdown }] : []),
      ...(html ? [{ path: html, data: await renderComparisonHtml(view) }] : []),
      ...(flags.flips ? [{ path: flags.flips, data: flipsJsonl(view) }] : []),
    ]);
    ctx.out(rendered.text);
  });
}

