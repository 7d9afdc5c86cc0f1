/**
 * A transfer chain end to end (issue #15): Distillery's multi-hop transfer (Dhurandhar & Pedapati
 * 2022, methods.md §4) against an independent PyTorch 1.13 re-implementation of the same protocol
 * (bench/torch_transfer.py), in the same run, on the same rows.
 *
 *   node --import tsx bench/transferChain.ts [--seeds 1,2,3,4,5] [--chain 'mlp:128'] [--student mlp:16]
 *        [--alpha 0.5] [--temperature 4] [--epochs <n>] [--patience <n>] [--repeat 3]
 *        [--out bench/results/transfer-chain.json]
 *
 * The work, the same on both sides, per seed: configs/letter-transfer.yaml's data, split (2000
 * training and 500 validation rows drawn per seed, 3000 test rows held out), teacher (MLP 512-512,
 * trained per seed) and training settings (Adam lr 0.003, batch 64, at most 40 epochs, early
 * stopping after 10 epochs without a better validation accuracy, the best epoch's weights put
 * back); then ONE fixed chain, teacher → `--chain` intermediates (`;`-separated, most complex
 * first) → `--student`, every hop knowledge distillation from the previous model with the same
 * α and T, (1−α)·CE(y, z) + α·T²·KL(σ(z_t/T) ‖ σ(z/T)), the hop teacher's logits on the training
 * rows computed once per hop; every model's validation and test accuracy. All models are MLPs
 * (ReLU, Glorot-uniform weights, zero biases). No per-hop method search and no chain search
 * (`distillery transfer` does both, training many more models): that is what makes the two
 * sides' work the same. `--epochs`/`--patience` override the config's (e.g. `--patience 0`
 * for a fixed number of epochs).
 *
 * Distillery: bench/transfer-chain-run.ts, calling the built package's API (dist/index.js:
 * transferTrialRows, trainTransferTeacher, trainHop, classifierAccuracy) as a library user
 * does; it is transpiled once (types stripped, typescript's transpileModule) and run by plain
 * node, so no TypeScript loader is in its time. Its time includes node's start-up, loading
 * tfjs and the native engine, reading and parsing the gzipped CSV (20,000 rows) and, per seed,
 * drawing and standardising the rows. PyTorch: python's start-up and `import torch`, then the
 * binary rows that Distillery's own code wrote (the same function, transferTrialRows, before
 * the timed runs), so it does no CSV parsing or standardisation. Both: one process for all
 * seeds, one engine thread (DISTILLERY_THREADS=1; torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1).
 * Adam's ε is tfjs's (1e-7) on both sides. What differs: the random streams (initial weights,
 * batch order are drawn from the same distributions, not the same numbers), so early stopping
 * ends runs at different epochs: hence the per-step ratio beside the whole-run one.
 *
 * The sides alternate (Distillery, PyTorch, …, `--repeat` times) and the fastest wall time of
 * each is kept. Reported per side: wall and CPU seconds (child rusage through /usr/bin/time),
 * the training seconds measured inside the process (rows, teacher and chain, no start-up),
 * epochs and optimizer steps, each model's test accuracy (mean over seeds); the speed ratio
 * PyTorch seconds / Distillery seconds (> 1: Distillery is faster), the CPU ratio, the per-step
 * ratio, the training-only ratio and the training-only ratio per parameter-step (steps weighted
 * by their model's parameter count: a teacher step costs far more than a student step, and early
 * stopping gives the two sides different mixes). `--patience 0` makes the work identical to the
 * step (every model trains `--epochs` epochs, validation still measured after each).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { fastest, machineInfo, ONE_THREAD_ENV, option, sideBySideRun, type Proc } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const seeds = option('seeds', '1,2,3,4,5').split(',').map(Number);
const chain = option('chain', 'mlp:128').split(';').filter(Boolean);
const student = option('student', 'mlp:16');
const hop = { method: 'kd', alpha: Number(option('alpha', '0.5')), temperature: Number(option('temperature', '4')) };
const { repeat, python, outFile, work, timed: timedAs } = sideBySideRun(root, 'transfer-chain', { repeat: 3, timeoutSeconds: 1800 });

const base = parseYaml(readFileSync(join(root, 'configs/letter-transfer.yaml'), 'utf8')) as Record<string, unknown> & { training: Record<string, unknown> };
const training = { ...base.training };
if (process.argv.includes('--epochs')) training.epochs = Number(option('epochs', ''));
if (process.argv.includes('--patience')) training.patience = Number(option('patience', ''));
const config = { ...base, name: 'transfer-chain-bench', seeds, student, candidates: chain, methods: [hop], training };

const configPath = join(work, 'config.json');
writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');

/** The Distillery runner and the harness it imports, types stripped, as ES modules in `work/run/`. */
function transpileRunner(): string {
  const dir = join(work, 'run');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  for (const name of ['harness', 'transfer-chain-run']) {
    const source = readFileSync(join(root, 'bench', `${name}.ts`), 'utf8');
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: `${name}.ts` });
    writeFileSync(join(dir, `${name}.js`), out.outputText);
  }
  return join(dir, 'transfer-chain-run.js');
}
const runner = [process.execPath, transpileRunner(), '--config', configPath, '--dist', join(root, 'dist')];
const dataDir = join(work, 'data');
const exported = spawnSync(runner[0], [...runner.slice(1), '--export', dataDir], { cwd: root, env: ONE_THREAD_ENV, encoding: 'utf8' });
if (exported.status !== 0) throw new Error(`transfer-chain-run --export failed: ${exported.stderr}`);

let runNo = 0;
const timed = (cmd: string[]): Promise<Proc> => timedAs(cmd, String(runNo++));

/** What both sides print (transfer-chain-run.ts, torch_transfer.py). */
interface ChildOut {
  trainSeconds: number;
  modelsTrained: number;
  totalEpochs: number;
  totalSteps: number;
  engine?: unknown;
  trials: { seed: number; models: { name: string; parameters: number; epochs: number; steps: number; validationAccuracy: number; testAccuracy: number }[] }[];
}
interface Side {
  seconds: number;
  cpuSeconds: number;
  trainSeconds: number;
  models: number;
  epochs: number;
  steps: number;
  /** Σ optimizer steps × the model's parameters: the work of the steps (a teacher's step costs ~1000× a small student's). */
  parameterSteps: number;
  engine?: unknown;
  /** Per position of the chain (teacher first, student last): mean over seeds. */
  chain: { model: string; testAccuracy: number; validationAccuracy: number; epochs: number }[];
}

async function side(cmd: string[]): Promise<Side> {
  const p = await timed(cmd);
  const out = JSON.parse(p.stdout.trim().split('\n').pop()!) as ChildOut;
  const mean = (i: number, get: (m: ChildOut['trials'][number]['models'][number]) => number) => out.trials.reduce((s, t) => s + get(t.models[i]), 0) / out.trials.length;
  return {
    seconds: p.wall,
    cpuSeconds: p.user + p.sys,
    trainSeconds: out.trainSeconds,
    models: out.modelsTrained,
    epochs: out.totalEpochs,
    steps: out.totalSteps,
    parameterSteps: out.trials.reduce((s, t) => s + t.models.reduce((a, m) => a + m.steps * m.parameters, 0), 0),
    engine: out.engine,
    chain: out.trials[0].models.map((m, i) => ({ model: m.name, testAccuracy: mean(i, (x) => x.testAccuracy), validationAccuracy: mean(i, (x) => x.validationAccuracy), epochs: mean(i, (x) => x.epochs) })),
  };
}

const d: Side[] = [];
const t: Side[] = [];
for (let i = 0; i < repeat; i++) {
  d.push(await side(runner));
  t.push(await side([python, join(root, 'bench/torch_transfer.py'), '--data', dataDir, '--threads', '1']));
  console.error(`#${i + 1}: Distillery ${d[i].seconds.toFixed(1)} s (${d[i].steps} steps), PyTorch ${t[i].seconds.toFixed(1)} s (${t[i].steps} steps)`);
}
const bd = fastest(d);
const bt = fastest(t);
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
for (const [name, s] of [['Distillery', bd], ['PyTorch', bt]] as const) {
  console.log(`${name}: ${s.seconds.toFixed(1)} s wall (${s.trainSeconds.toFixed(1)} s training), ${s.cpuSeconds.toFixed(1)} CPU s, ${s.models} models, ${s.steps} steps; test accuracy ${s.chain.map((m) => `${m.model} ${pct(m.testAccuracy)}`).join(' → ')}`);
}
const results = {
  machine: machineInfo(python),
  seeds,
  chain: [...chain, student],
  hop,
  training,
  repeat,
  distillery: { ...bd, allSeconds: d.map((x) => x.seconds), msPerStep: (1000 * bd.seconds) / bd.steps },
  pytorch: { ...bt, allSeconds: t.map((x) => x.seconds), msPerStep: (1000 * bt.seconds) / bt.steps },
  /** PyTorch seconds / Distillery seconds, whole processes: > 1 means Distillery is faster. */
  ratio: bt.seconds / bd.seconds,
  cpuRatio: bt.cpuSeconds / bd.cpuSeconds,
  /** The same over the training measured inside each process (no start-up, no data loading). */
  trainRatio: bt.trainSeconds / bd.trainSeconds,
  /** Whole processes per optimizer step (early stopping ends the two sides' runs at different epochs). */
  ratioPerStep: bt.seconds / bt.steps / (bd.seconds / bd.steps),
  /** Training seconds per parameter-step (the steps weighted by their model's size; see `parameterSteps`). */
  trainRatioPerParameterStep: bt.trainSeconds / bt.parameterSteps / (bd.trainSeconds / bd.parameterSteps),
};
console.log(`ratio ${results.ratio.toFixed(2)} (CPU ${results.cpuRatio.toFixed(2)}, per step ${results.ratioPerStep.toFixed(2)}; training only ${results.trainRatio.toFixed(2)}, per parameter-step ${results.trainRatioPerParameterStep.toFixed(2)})`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${outFile}`);
