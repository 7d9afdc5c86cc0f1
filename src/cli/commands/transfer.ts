import { Command, Option } from 'commander';
import * as path from 'node:path';
import { DEFAULT_HOP_GRID, DEFAULT_TRANSFER_SEEDS, parseTransferConfig, TRANSFER_TRAINING } from '../../experiments/transferConfig.js';
import { prepareTransferData } from '../../experiments/transferExperiment.js';
import { parseStudent, STUDENT_SYNTAX } from '../../methods/transfer/students.js';
import { HOP_METHODS, methodNamed, resolveMethod, type UpdateMethodSpec } from '../../methods/registry.js';
import { loadModel } from '../../models/io.js';
import { labelColumnFor } from '../dataInput.js';
import { InputError, withParamNames, withParamNamesSync } from '../../util/errors.js';
import type { GlobalFlags } from '../context.js';
import { runTransferAndReport } from '../transferRun.js';
import { parseInteger, parseNumber, parseNumberList, trainingFromFlags, type TrainingFlags } from '../options.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';
import { addTrainingParamOptions, TRAINING_FLAG_OF_KEY } from '../trainingOptions.js';

interface TransferFlags extends TrainingFlags {
  teacher: string;
  data: string;
  label?: string;
  student: string;
  out: string;
  test?: string;
  testSize: number;
  validation: number;
  candidate?: string[];
  rungs: number;
  methods?: string;
  cap?: number;
  floor?: number;
  probeLayers?: string;
  probeTop?: number;
  search: 'greedy' | 'exhaustive';
  seeds?: number[];
  jobs?: number;
}

/** The flag behind each key of the config the command builds (errors of the config's values name its keys). */
const FLAG_OF_KEY: Record<string, string> = {
  data: '--data',
  labelColumn: '--label',
  testData: '--test',
  testSize: '--test-size',
  'split.validation': '--validation',
  'teacher.path': '--teacher',
  student: '--student',
  rungs: '--rungs',
  methods: '--methods',
  search: '--search',
  seeds: '--seeds',
  ...TRAINING_FLAG_OF_KEY,
};

/** A config key (`candidates.2`, `methods.4.layers`, …) as the user typed it: its flag, and for a repeated flag its value. */
function flagOfKey(flags: TransferFlags): (key: string) => string | undefined {
  return (key) => {
    const candidate = /^candidates\.(\d+)/.exec(key);
    if (candidate) return `--candidate ${flags.candidate?.[Number(candidate[1])] ?? ''}`.trimEnd();
    if (/^methods\.\d+\.layers$/.test(key) && flags.probeLayers !== undefined) return '--probe-layers';
    return FLAG_OF_KEY[key] ?? FLAG_OF_KEY[key.replace(/\.\d+(\..*)?$/, '')];
  };
}

/** `name[:key=value[:key=value]]` → a method spec of the hop grid; errors name `--methods`. */
export function parseHopMethod(text: string): UpdateMethodSpec {
  const [name, ...pairs] = text.trim().split(':');
  if (!(HOP_METHODS as readonly string[]).includes(name)) throw new InputError('--methods', `"${name}" is not a hop method (${HOP_METHODS.join(', ')})`);
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    if (value === undefined) throw new InputError('--methods', `"${pair}" in "${text}" is not key=value`);
    params[key] = key === 'layers' ? value.split('+') : Number(value);
  }
  return resolveMethod({ method: name, ...params } as never, '--methods');
}

const formatGrid = (grid: UpdateMethodSpec[]) =>
  grid.map((m) => [m.method, ...Object.entries(m).filter(([k, v]) => k !== 'method' && v !== undefined).map(([k, v]) => `${k}=${v}`)].join(':')).join(',');

/** The grid from --methods and the shortcuts --cap, --floor, --probe-layers, --probe-top (applied to every entry of that method). */
function gridFromFlags(flags: TransferFlags): UpdateMethodSpec[] {
  let grid = flags.methods ? flags.methods.split(',').map(parseHopMethod) : DEFAULT_HOP_GRID.map((m) => ({ ...m }));
  if (flags.cap !== undefined && !(flags.cap > 0)) throw new InputError('--cap', `must be a positive number (SRatio clips weights to [0, cap]), got ${flags.cap}`);
  const set = (method: string, key: string, value: unknown, flag: string) => {
    if (value === undefined) return;
    if (!grid.some((m) => m.method === method)) throw new InputError(flag, `applies to ${method}, which --methods does not list`);
    grid = grid.map((m) => (m.method === method ? resolveMethod({ ...m, [key]: value } as never, flag) : m));
  };
  set('sratio', 'cap', flags.cap, '--cap');
  set('profweight', 'floor', flags.floor, '--floor');
  set('profweight', 'layers', flags.probeLayers?.split(',').map((s) => s.trim()), '--probe-layers');
  set('profweight', 'top', flags.probeTop, '--probe-top');
  return grid;
}

export function transferCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('transfer')
    .description('train a simple model from a complex one: no transfer, 1-hop transfer, and a chain of intermediate models chosen on validation data, side by side over seeds')
    .addOption(pathOption('--teacher <dir>', 'the complex model (a model directory from `distillery train`)', PATH_KINDS.model, { required: true }))
    .addOption(pathOption('--data <file|name>', "training data (the teacher's columns and classes); validation (and test) rows are held out of it", PATH_KINDS.data, { required: true }))
    .option('--label <column>', "label column of a CSV/TSV, by name or number from 1 (default: the teacher's)")
    .requiredOption('--student <arch>', `the simple model: ${STUDENT_SYNTAX}`)
    .addOption(pathOption('--out <dir>', 'run directory: results.json, report.md, summary.txt, config.yaml and every model (seed-<s>/student-*, intermediates/)', PATH_KINDS.outputDir, { required: true }))
    .addOption(pathOption('--test <file|name>', 'separate labelled test data (default: hold out --test-size of --data)', PATH_KINDS.data))
    .option('--test-size <size>', 'test rows held out of --data when no --test: a count or a fraction in (0,1)', parseNumber('test-size', 0), 0.2)
    .option('--validation <size>', 'validation rows per seed (choosing methods and the chain): a count or a fraction in (0,1) of what is left', parseNumber('validation', 0), 0.2)
    .option('--candidate <arch>', 'an intermediate model, mlp:<widths> (repeat the flag for several; default: an automatic ladder)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--rungs <n>', 'intermediate models of the automatic ladder: one- and two-layer MLPs between student and teacher in parameters', parseInteger('rungs', 1, 8), 3)
    .option('--methods <list>', `one-hop methods tried on every hop, chosen on validation accuracy; comma-separated name[:key=value…] of ${HOP_METHODS.join(', ')}; plain (no transfer) is always tried first (default ${formatGrid(DEFAULT_HOP_GRID)})`)
    .option('--cap <x>', 'SRatio: largest example weight, > 0 (sets every sratio entry)', parseNumber('cap'))
    .option('--floor <x>', 'ProfWeight: smallest example weight, in [0,1] (sets every profweight entry)', parseNumber('floor', 0, 1))
    .option('--probe-layers <names>', "ProfWeight: the teacher's layers to probe, comma-separated, e.g. dense_1,dense_2 (default: the top --probe-top layers; hops from intermediates always probe their top layers)")
    .option('--probe-top <n>', 'ProfWeight: number of topmost layers probed when --probe-layers is not given (default 2)', parseInteger('probe-top', 1, 64))
    .addOption(new Option('--search <kind>', 'chain search: greedy adds a candidate only when it raises the student\'s validation accuracy; exhaustive tries every subset (at most 8 candidates)').choices(['greedy', 'exhaustive']).default('greedy'))
    .option('--seeds <list>', `one run per seed (validation split, initialisations); CIs over them (default ${DEFAULT_TRANSFER_SEEDS.join(',')})`, parseNumberList('seeds'))
    .option('--jobs <n>', 'seeds run at once, each in its own thread (default: number of cores)', parseInteger('jobs', 1, 64));
  addTrainingParamOptions(cmd, TRANSFER_TRAINING, { epochs: "maximum passes of every model's training" });
  cmd.addHelpText(
    'after',
    `\nMethods per hop (the hop's teacher is the previous model of the chain):\n${HOP_METHODS.map((m) => `  ${m.padEnd(12)} ${methodNamed(m).description}`).join('\n')}\n` +
      '\nA tree student takes the reweighting methods as example weights and kd/distill as soft targets.\n' +
      '\nExample:\n  distillery transfer --teacher models/big --data train.csv --student logreg --out runs/x --seeds 1,2,3,4,5\n',
  );
  return cmd.action(async (flags: TransferFlags) => {
    const grid = gridFromFlags(flags);
    const student = parseStudent(flags.student, '--student');
    const teacher = await loadModel(flags.teacher);
    const labelColumn = labelColumnFor(flags.label, teacher.meta.preprocessing);
    teacher.model.dispose();
    const cfg = withParamNamesSync('config', flagOfKey(flags), 'user', () =>
      parseTransferConfig({
        kind: 'transfer',
        name: `transfer-${path.basename(flags.out)}`.replace(/[^A-Za-z0-9._-]/g, '-'),
        data: flags.data,
        ...(labelColumn ? { labelColumn } : {}),
        ...(flags.test ? { testData: flags.test } : { testSize: flags.testSize }),
        split: { train: 'rest', validation: flags.validation },
        teacher: { path: flags.teacher },
        student,
        candidates: flags.candidate ?? 'auto',
        rungs: flags.rungs,
        methods: grid,
        search: flags.search,
        ...(flags.seeds ? { seeds: flags.seeds.map((s) => Math.round(s)) } : {}),
        training: trainingFromFlags(flags, TRANSFER_TRAINING),
      }),
    );
    // Fail fast on the split, teacher, classes, student, candidates and probe layers, naming the flags.
    await withParamNames('config', flagOfKey(flags), 'user', async () => {
      const data = await prepareTransferData(cfg);
      data.teacher?.model.dispose();
      await runTransferAndReport(cfg, flags.out, globals(), flags.jobs);
    });
  });
}

