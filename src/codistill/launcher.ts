/**
 * Runs a codistillation run's workers as child processes of this machine and keeps them
 * alive: a worker that dies (killed, crashed) is started again and resumes from its own
 * last checkpoint; a worker that exits with status 2 (bad input) ends the run with its
 * message. The store address travels in the environment (DISTILLERY_STORE), never on a
 * command line, so a password in it does not show in process listings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DistilleryError } from '../util/errors.js';

export const STORE_ENV = 'DISTILLERY_STORE';

/** A progress event a worker prints on stdout (one JSON object a line) with `--events json`. */
export interface WorkerProgressEvent {
  event: 'progress';
  worker: number;
  step: number;
  steps: number;
  valAccuracy: number;
  loss: number;
  peers: number[];
}

export type LauncherEvent =
  | { type: 'started'; worker: number; pid: number; attempt: number }
  | { type: 'progress'; progress: WorkerProgressEvent }
  | { type: 'log'; worker: number; line: string }
  | { type: 'exited'; worker: number; code: number | null; signal: string | null; restarting: boolean };

export interface LaunchOptions {
  workers: number;
  /** The command that starts the distillery CLI: [executable, ...arguments before the subcommand]. */
  command: string[];
  /** CLI arguments of worker i (global flags, `codistill-worker`, its flags). */
  args: (worker: number) => string[];
  storeUrl: string;
  maxRestarts: number;
  onEvent: (e: LauncherEvent) => void;
}

export interface LaunchOutcome {
  restarts: number[];
}

/** Starts every worker and resolves when all have exited 0 (restarting crashed ones). */
export function launchWorkers(opts: LaunchOptions): Promise<LaunchOutcome> {
  const restarts = new Array<number>(opts.workers).fill(0);
  const children = new Map<number, ChildProcess>();
  let failed = false;
  // Workers do not outlive the launcher (Ctrl-C, a fatal error): a resumed launch starts them anew.
  const stopAll = () => {
    for (const c of children.values()) c.kill('SIGTERM');
  };
  process.once('exit', stopAll);
  return new Promise<LaunchOutcome>((resolve, reject) => {
    let running = 0;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      stopAll();
      reject(e);
    };
    const start = (i: number) => {
      const [exe, ...pre] = opts.command;
      const child = spawn(exe, [...pre, ...opts.args(i)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, [STORE_ENV]: opts.storeUrl },
      });
      children.set(i, child);
      running++;
      opts.onEvent({ type: 'started', worker: i, pid: child.pid ?? -1, attempt: restarts[i] + 1 });
      let lastError = '';
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const e = JSON.parse(line) as WorkerProgressEvent;
          if (e.event === 'progress') return opts.onEvent({ type: 'progress', progress: e });
        } catch {
          // not an event: pass it on as a log line
        }
        opts.onEvent({ type: 'log', worker: i, line });
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (line.startsWith('distillery: ')) lastError = line.slice('distillery: '.length);
        opts.onEvent({ type: 'log', worker: i, line });
      });
      child.on('error', (e) => fail(new DistilleryError(`worker ${i}: cannot start: ${e.message}`, 1)));
      child.on('exit', (code, signal) => {
        running--;
        children.delete(i);
        if (failed) return;
        if (code === 0) {
          opts.onEvent({ type: 'exited', worker: i, code, signal, restarting: false });
          if (running === 0) resolve({ restarts });
          return;
        }
        if (code === 2) {
          opts.onEvent({ type: 'exited', worker: i, code, signal, restarting: false });
          return fail(new DistilleryError(`worker ${i}: ${lastError || 'bad input (exit 2)'}`, 2));
        }
        const restarting = restarts[i] < opts.maxRestarts;
        opts.onEvent({ type: 'exited', worker: i, code, signal, restarting });
        if (!restarting) return fail(new DistilleryError(`worker ${i} died ${restarts[i] + 1} times (last: ${signal ?? `exit ${code}`}${lastError ? `, ${lastError}` : ''})`, 1));
        restarts[i]++;
        start(i);
      });
    };
    for (let i = 0; i < opts.workers; i++) start(i);
  }).finally(() => process.removeListener('exit', stopAll));
}
