/**
 * What the end-to-end benches against a PyTorch twin share (bench/mainjob.ts, bench/transferChain.ts,
 * bench/codistillPair.ts):
 * command-line options, the one-thread environment, whole child processes timed under
 * /usr/bin/time, the fastest of repeated runs, the rows handed to the twin, the machine's description.
 *
 * Imports only node: modules (bench/transferChain.ts runs it, transpiled, next to its Distillery runner).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Dataset } from '../src/data/types.js';

/** The value after `--<name>` on the command line, or `dflt`. */
export function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/** One engine thread on both sides: Distillery's native engine, OpenBLAS, OpenMP and MKL (PyTorch also calls torch.set_num_threads(1)). */
export const ONE_THREAD_ENV: NodeJS.ProcessEnv = { ...process.env, DISTILLERY_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** A finished child: its wall seconds, its (and its children's) user and system CPU seconds, its peak RSS, and its output. */
export interface Proc {
  wall: number;
  user: number;
  sys: number;
  /** Peak resident set size of the child (the largest of it and its waited-for children), in bytes. */
  maxRss: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` under /usr/bin/time (which writes the CPU times and peak RSS to `timeFile`); fails on a non-zero exit or after `timeoutMs`. */
export function timedChild(cmd: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeFile: string; timeoutMs: number }): Promise<Proc> {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', opts.timeFile, ...cmd], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return fail(new Error(`${cmd.join(' ')} failed (${code}): ${stderr.slice(-2000)}`));
      const [user, sys, maxRssKb] = readFileSync(opts.timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      ok({ wall, user, sys, maxRss: maxRssKb * 1024, stdout, stderr });
    });
  });
}

/** The run with the lowest wall time. */
export function fastest<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** The machine and the versions a result was measured with. */
export function machineInfo(python: string): { cpus: string | undefined; cores: number; node: string; torch: string } {
  const torch = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
  return { cpus: cpus()[0]?.model, cores: availableParallelism(), node: process.version, torch };
}

/** Writes a dataset for a PyTorch twin: `<dir>/<part>.x.f32` (row-major float32 [n, d]) and `<dir>/<part>.y.i32` (int32 labels); returns the row count. */
export function writeRows(dir: string, part: string, ds: Dataset): number {
  writeFileSync(`${dir}/${part}.x.f32`, Buffer.from(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  writeFileSync(`${dir}/${part}.y.i32`, Buffer.from(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return ds.labels.length;
}

/**
 * A side-by-side bench's common flags — --repeat (measurements per side, default 2), --python (PyTorch's
 * interpreter, default Debian's /usr/bin/python3), --out (default bench/results/<name>.json), --timeout
 * (seconds a child may run, default 3600) — its scratch directory (removed at exit), and its timed
 * children (cwd `root`, one engine thread).
 */
export function sideBySideRun(root: string, name: string, defaults: { repeat?: number; timeoutSeconds?: number } = {}) {
  const childTimeoutMs = Number(option('timeout', String(defaults.timeoutSeconds ?? 3600))) * 1000;
  const work = mkdtempSync(join(tmpdir(), `distillery-bench-${name}-`));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  return {
    repeat: Number(option('repeat', String(defaults.repeat ?? 2))),
    python: option('python', '/usr/bin/python3'),
    outFile: resolve(option('out', join(root, `bench/results/${name}.json`))),
    work,
    /** One child under /usr/bin/time: its wall seconds and its (and its children's) user and system CPU seconds. */
    timed: (cmd: string[], tag: string): Promise<Proc> => timedChild(cmd, { cwd: root, env: ONE_THREAD_ENV, timeFile: join(work, `time-${tag}.txt`), timeoutMs: childTimeoutMs }),
  };
}
