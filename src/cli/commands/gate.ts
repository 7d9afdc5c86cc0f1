import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { evaluateGate, GATE_LIMIT_NAMES, renderGate, type GatePolicy } from '../../metrics/gate.js';
import { DistilleryError, InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomicFs.js';
import { createContext, type GlobalFlags } from '../context.js';
import { parseNumber } from '../options.js';
import { addComparisonOptions, compareFromFlags, type ComparisonFlags } from './compare.js';

/** Exit code of a release the gate blocks (0 passed, 2 bad input, 1 internal error). */
export const GATE_BLOCKED_EXIT = 3;

interface GateFlags extends ComparisonFlags {
  policy?: string;
  maxNfr?: number;
  maxChurn?: number;
  maxRelativeNfr?: number;
  maxPd?: number;
  minAccuracyGain?: number;
  minAccuracy?: number;
  decideOn?: 'estimate' | 'bound';
  json?: string;
}

const rate = z.number().min(0).max(1);
/** A policy file: the same limits as the flags, in YAML or JSON. */
const policySchema = z
  .object({
    maxNfr: rate.optional(),
    maxChurn: rate.optional(),
    maxRelativeNfr: z.number().min(0).optional(),
    maxPredictionDifference: rate.optional(),
    minAccuracyGain: z.number().min(-1).max(1).optional(),
    minAccuracy: rate.optional(),
    decideOn: z.enum(['estimate', 'bound']).optional(),
  })
  .strict();

async function readPolicy(path: string): Promise<GatePolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(path, 'policy file not found or unreadable');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new InputError(path, `is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = policySchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(path, `${issue.path.join('.') || 'policy'}: ${issue.message} (limits: ${GATE_LIMIT_NAMES.join(', ')}, decideOn)`);
  }
  return parsed.data;
}

/** The policy: a file's limits, overridden by the limits given as flags. */
async function policyFrom(flags: GateFlags): Promise<GatePolicy> {
  const fromFile = flags.policy ? await readPolicy(flags.policy) : {};
  const fromFlags: GatePolicy = {
    maxNfr: flags.maxNfr,
    maxChurn: flags.maxChurn,
    maxRelativeNfr: flags.maxRelativeNfr,
    maxPredictionDifference: flags.maxPd,
    minAccuracyGain: flags.minAccuracyGain,
    minAccuracy: flags.minAccuracy,
    decideOn: flags.decideOn,
  };
  const policy: GatePolicy = { ...fromFile };
  for (const [k, v] of Object.entries(fromFlags)) if (v !== undefined) (policy as Record<string, unknown>)[k] = v;
  if (!GATE_LIMIT_NAMES.some((k) => policy[k] !== undefined)) {
    throw new InputError('gate', 'no limits given: set at least one of --max-nfr, --max-churn, --max-relative-nfr, --max-pd, --min-accuracy-gain, --min-accuracy (or a --policy file)');
  }
  return policy;
}

export function gateCommand(globals: () => GlobalFlags): Command {
  const cmd = addComparisonOptions(
    new Command('gate').description(
      'release gate for CI: compare the deployed and the new model on labelled data and exit 3 (blocked) if the new one breaks the limits, 0 if it passes',
    ),
  )
    .option('--policy <file>', 'YAML/JSON file of limits (maxNfr, maxChurn, maxRelativeNfr, maxPredictionDifference, minAccuracyGain, minAccuracy, decideOn); flags override it')
    .option('--max-nfr <rate>', 'highest negative flip rate, e.g. 0.02', parseNumber('max-nfr', 0, 1))
    .option('--max-churn <rate>', 'highest churn (share of changed predictions)', parseNumber('max-churn', 0, 1))
    .option('--max-relative-nfr <x>', 'highest relative NFR', parseNumber('max-relative-nfr', 0))
    .option('--max-pd <x>', 'highest prediction difference (needs probabilities: models or predictions CSVs with them)', parseNumber('max-pd', 0, 1))
    .option('--min-accuracy-gain <x>', 'lowest accuracy change new − old, e.g. -0.005 allows losing half a point', parseNumber('min-accuracy-gain', -1, 1))
    .option('--min-accuracy <rate>', 'lowest accuracy of the new model', parseNumber('min-accuracy', 0, 1))
    .addOption(
      new Option('--decide-on <what>', 'check point estimates, or the unfavourable end of each bootstrap interval (default: estimate)').choices(['estimate', 'bound']),
    )
    .option('--json <file>', 'also write the verdict and the full comparison as JSON');
  cmd.addHelpText(
    'after',
    `
Exit status: 0 the release passes every limit; ${GATE_BLOCKED_EXIT} it is blocked; 2 bad input; 1 internal error.

Examples:
  distillery gate --old models/v1 --new models/v2 --data holdout.csv --max-nfr 0.02 --min-accuracy-gain 0
  distillery gate --old v1.csv --new v2.csv --data holdout.csv --policy release-policy.yaml --json gate.json
`,
  );
  return cmd.action(async (flags: GateFlags) => {
    const ctx = await createContext(globals());
    const policy = await policyFrom(flags);
    const report = await compareFromFlags(flags);
    if (policy.maxPredictionDifference !== undefined && report.metrics.predictionDifference === null) {
      throw new InputError('--max-pd', 'needs class probabilities from both sides (model directories, or predictions CSVs with probability columns)');
    }
    const verdict = evaluateGate(report, policy);
    ctx.out(renderGate(verdict));
    if (flags.json) {
      const output = { verdict, policy, old: flags.old, new: flags.new, data: flags.data, comparison: report };
      await writeFileAtomic(flags.json, JSON.stringify(output, null, 2) + '\n');
    }
    if (!verdict.passed) throw new DistilleryError('release blocked by the gate', GATE_BLOCKED_EXIT);
  });
}
