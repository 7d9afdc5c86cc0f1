/**
 * What the side-by-side benches (Distillery against a PyTorch twin in the same run: bench/mainjob.ts,
 * bench/codistillPair.ts) share: their flags, the one-thread environment both sides run in, a child
 * process timed by /usr/bin/time (its wall seconds, and its own and its waited-for children's CPU
 * seconds), the fastest of repeated measurements, and the machine they ran on.
 *
 * Flags every such bench takes: --repeat (measurements per side, default 2), --python (PyTorch's
 * interpreter, default Debian's /usr/bin/python3), --out (the results file, default
 * bench/results/<name>.json), --timeout (seconds a child may run, default 3600).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** `--name value` from the command line, else `dflt`. */
export function benchOption(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** One engine thread per process on both sides (Distillery's engine, PyTorch's intra-op pool, their BLAS). */
export const ONE_THREAD_ENV: NodeJS.ProcessEnv = { ...process.env, DISTILLERY_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

export interface TimedChild {
  wall: number;
  user: number;
  sys: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` under /usr/bin/time (which writes its CPU times to `timeFile`) and resolves with its
 * wall seconds and the user and system CPU seconds of it and its children; rejects when it fails
 * or runs past `timeoutMs` (then it is killed).
 */
export function timedChild(cmd: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeFile: string; timeoutMs: number }): Promise<TimedChild> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', o.timeFile, ...cmd], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return fail(new Error(`${cmd.join(' ')} failed (${code}): ${stderr.slice(-2000)}`));
      const [user, sys] = readFileSync(o.timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      ok({ wall, user, sys, stdout, stderr });
    });
  });
}

/** The measurement with the fewest wall seconds. */
export function fastest<T extends { seconds: number }>(xs: T[]): T {
  return xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** The CPU, core count, Node and PyTorch versions of this run. */
export function machineInfo(python: string): { cpus?: string; cores: number; node: string; torch: string } {
  const torch = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  return { cpus: cpus()[0]?.model, cores: availableParallelism(), node: process.version, torch };
}

/** A side-by-side bench's common flags, its scratch directory (removed at exit), and its timed children (cwd `root`, one thread). */
export function sideBySideRun(root: string, name: string) {
  const childTimeoutMs = Number(benchOption('timeout', '3600')) * 1000;
  const work = mkdtempSync(join(tmpdir(), `distillery-bench-${name}-`));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  return {
    repeat: Number(benchOption('repeat', '2')),
    python: benchOption('python', '/usr/bin/python3'),
    outFile: resolve(benchOption('out', join(root, `bench/results/${name}.json`))),
    work,
    /** One child under /usr/bin/time: its wall seconds and its (and its children's) user and system CPU seconds. */
    timed: (cmd: string[], tag: string): Promise<TimedChild> => timedChild(cmd, { cwd: root, env: ONE_THREAD_ENV, timeFile: join(work, `time-${tag}.txt`), timeoutMs: childTimeoutMs }),
  };
}
