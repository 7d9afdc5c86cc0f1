import { Command, Option } from 'commander';
import { checkGatePolicy, evaluateGate, GATE_LIMIT_NAMES, GATE_LIMITS, gatePolicySchema, renderGate, SLICE_LIMIT_NAMES, type GateLimitName, type GatePolicy } from '../../metrics/gate.js';
import { DEFAULT_MIN_SLICE_SIZE } from '../../metrics/slices.js';
import { addSliceOptions, naming, type SliceFlags, type SliceRequest } from '../sliceOptions.js';
import { readYamlFile } from '../../util/yamlFile.js';
import { DistilleryError, InputError } from '../../util/errors.js';
import { writeOutputs } from '../../util/outputs.js';
import { addOutputOptions, checkOutputs, type OutputFlags } from '../outputOptions.js';
import { createContext, type GlobalFlags } from '../context.js';
import { optionKey, parseNumber } from '../options.js';
import { addComparisonOptions, comparisonFromFlags, jsonOutput, type ComparisonFlags } from '../comparison.js';
import { renderComparisonHtml } from '../../report/html/comparisonHtml.js';
import { htmlOutput, htmlPathFor } from '../htmlReport.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

const GATE_FORMAT = 'distillery-gate';

/** Exit code of a release the gate blocks (0 passed, 2 bad input, 1 internal error). */
export const GATE_BLOCKED_EXIT = 3;

/** The flag of each policy limit (help and range come from the limit's definition). */
const LIMIT_FLAGS: Record<GateLimitName, string> = {
  maxNfr: 'max-nfr',
  maxChurn: 'max-churn',
  maxRelativeNfr: 'max-relative-nfr',
  maxPredictionDifference: 'max-pd',
  minAccuracyGain: 'min-accuracy-gain',
  minAccuracy: 'min-accuracy',
  maxSliceNfr: 'max-slice-nfr',
  maxRelativeIncrease: 'max-relative-increase',
};

interface GateFlags extends ComparisonFlags, OutputFlags, SliceFlags, Record<string, unknown> {
  policy?: string;
  decideOn?: 'estimate' | 'bound';
  json?: string;
  html?: string;
}

/** The policy: a file's limits, overridden by the limits given as flags; and what to slice. */
async function policyFrom(flags: GateFlags): Promise<{ policy: GatePolicy; slicing?: SliceRequest }> {
  const policy: GatePolicy = flags.policy ? await readYamlFile(flags.policy, gatePolicySchema, ` (limits: ${GATE_LIMIT_NAMES.join(', ')}; decideOn, slices, minSliceSize)`) : {};
  const fromFlag = new Set<string>();
  for (const l of GATE_LIMITS) {
    const v = flags[optionKey(LIMIT_FLAGS[l.limitName])];
    if (typeof v === 'number') {
      policy[l.limitName] = v;
      fromFlag.add(l.limitName);
    }
  }
  if (flags.decideOn) policy.decideOn = flags.decideOn;
  if (flags.sliceBy) {
    policy.slices = flags.sliceBy;
    fromFlag.add('slices');
  }
  if (flags.minSliceSize !== undefined) {
    policy.minSliceSize = flags.minSliceSize;
    fromFlag.add('minSliceSize');
  }
  if (!GATE_LIMIT_NAMES.some((k) => policy[k] !== undefined)) {
    const all = GATE_LIMIT_NAMES.map((k) => `--${LIMIT_FLAGS[k]}`).join(', ');
    throw new InputError('gate', `no limits given: set at least one of ${all} (or a --policy file)`);
  }
  const FIELD_FLAGS: Record<string, string> = { ...LIMIT_FLAGS, slices: 'slice-by', minSliceSize: 'min-slice-size' };
  const name = (field: string) => {
    if (fromFlag.has(field) || !flags.policy) return `--${FIELD_FLAGS[field]}`;
    // a field neither a flag nor the file gives: either may give it
    if (field === 'slices' && !policy.slices) return `--${FIELD_FLAGS[field]}, or slices: in ${flags.policy}`;
    return `${flags.policy}: ${field}`;
  };
  checkGatePolicy(policy, name);
  const needsSlices = SLICE_LIMIT_NAMES.some((k) => policy[k] !== undefined) || (policy.slices?.length ?? 0) > 0 || flags.findRegions !== undefined;
  if (!needsSlices) return { policy };
  return {
    policy,
    slicing: {
      specs: policy.slices ?? [],
      source: name('slices'),
      minSize: policy.minSliceSize ?? DEFAULT_MIN_SLICE_SIZE,
      minSizeSource: name('minSliceSize'),
      regions: flags.findRegions ? { use: flags.findRegions === true ? undefined : flags.findRegions } : undefined,
    },
  };
}

export function gateCommand(globals: () => GlobalFlags): Command {
  const cmd = addComparisonOptions(
    new Command('gate').description(
      'release gate for CI: compare the deployed and the new model on labelled data and exit 3 (blocked) if the new one breaks the limits, 0 if it passes',
    ),
  )
    .addOption(pathOption('--policy <file>', `YAML/JSON file of limits (${GATE_LIMIT_NAMES.join(', ')}, decideOn); flags override it`, PATH_KINDS.inputFile))
    .addOption(
      new Option('--decide-on <what>', 'check point estimates, or the unfavourable end of each bootstrap interval (default: estimate)').choices(['estimate', 'bound']),
    )
    .addOption(pathOption('--json <file>', 'also write the verdict and the full comparison as JSON', PATH_KINDS.outputFile, { output: (file, flag) => jsonOutput(file, flag, GATE_FORMAT) }))
    .addOption(pathOption('--html <file>', 'also write the HTML report (default: next to --json, e.g. gate.json → gate.html)', PATH_KINDS.outputFile, { output: htmlOutput }));
  addSliceOptions(cmd);
  addOutputOptions(cmd, { resumable: false });
  for (const l of GATE_LIMITS) {
    const flag = LIMIT_FLAGS[l.limitName];
    cmd.option(`--${flag} <x>`, l.help, parseNumber(flag, l.range[0], l.range[1]));
  }
  cmd.addHelpText(
    'after',
    `
Exit status: 0 the release passes every limit; ${GATE_BLOCKED_EXIT} it is blocked; 2 bad input; 1 internal error.

Examples:
  distillery gate --old models/v1 --new models/v2 --data holdout.csv --max-nfr 0.02 --min-accuracy-gain 0
  distillery gate --old v1.csv --new v2.csv --data holdout.csv --policy release-policy.yaml --json gate.json
  distillery gate --old models/v1 --new models/v2 --data holdout.csv --max-nfr 0.02 --slice-by 'region,true-class' --max-slice-nfr 0.05 --decide-on bound
`,
  );
  return cmd.action(async (flags: GateFlags) => {
    const ctx = await createContext(globals());
    const html = htmlPathFor(flags);
    await checkOutputs([flags.json ? jsonOutput(flags.json, '--json', GATE_FORMAT) : undefined, html ? htmlOutput(html, flags.html ? '--html' : '--json') : undefined], flags);
    const { policy, slicing } = await policyFrom(flags);
    const view = await comparisonFromFlags(flags, ctx.engine, slicing);
    const report = view.report;
    if (policy.maxPredictionDifference !== undefined && report.metrics.predictionDifference === null) {
      throw new InputError('--max-pd', 'needs class probabilities from both sides (model directories, or predictions CSVs with probability columns)');
    }
    const verdict = naming(() => evaluateGate(report, policy, view.slices ?? undefined), 'minSliceSize', slicing?.minSizeSource ?? '--min-slice-size');
    ctx.out(renderGate(verdict));
    const { report: _, ...detail } = view;
    const output = { format: GATE_FORMAT, verdict, policy, comparison: report, ...detail };
    await writeOutputs([
      ...(flags.json ? [{ path: flags.json, data: JSON.stringify(output, null, 2) + '\n' }] : []),
      ...(html ? [{ path: html, data: await renderComparisonHtml({ ...view, gate: { verdict, policy } }) }] : []),
    ]);
    if (!verdict.passed) throw new DistilleryError('release blocked by the gate', GATE_BLOCKED_EXIT);
  });
}
