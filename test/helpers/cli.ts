/**
 * Runs the `distillery` CLI in a child process: the installed entry point, bin/distillery.js,
 * on dist/ (which `npm test` compiles from the sources first: scripts/run-tests.mjs), as a user
 * runs it and without a TypeScript loader's start-up in every process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI's entry point: spawn `process.execPath` with `[CLI_ENTRY, ...args]`. */
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/distillery.js', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A CLI child process started in `cwd`: `kill()` ends it (SIGKILL unless another signal is named); `done` gives its exit code (-1: killed by a signal) and output; `exited` whether it has ended. */
export interface RunningCli {
  kill(signal?: NodeJS.Signals): void;
  done: Promise<CliResult>;
  readonly exited: boolean;
}

/** Starts the CLI in a child process in `cwd`, each stderr line handed to `onLine` as it arrives; killed after `timeoutMs`. */
export function startCli(args: string[], cwd: string, onLine: (line: string) => void = () => {}, timeoutMs = 240_000): RunningCli {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr, partial] = ['', '', ''];
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    const got = (partial + d).split('\n');
    partial = got.pop()!;
    for (const l of got) onLine(l);
  });
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code) => (clearTimeout(timer), resolve({ code: code ?? -1, stdout, stderr }))));
  return {
    kill: (signal = 'SIGKILL') => void child.kill(signal),
    done,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
  };
}

/**
 * Runs the real CLI's `main` (src/cli/main.ts) in this process, capturing the text it writes
 * (results, messages, commander's --help), for tests of many commands where a child process per
 * case would cost seconds of start-up each. Exit codes are main()'s; use runCli (a child
 * process) where signals or process exit matter.
 */
export async function runCliHere(args: string[]): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const [writeOut, writeErr] = [process.stdout.write, process.stderr.write];
  // Only text is captured: the test runner reports results on stdout as binary chunks, which
  // pass through (swallowing them would lose a test's report).
  const capture = (sink: string[], original: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => (typeof chunk === 'string' ? (sink.push(chunk), true) : (original as (...a: unknown[]) => boolean)(chunk, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(out, writeOut.bind(process.stdout));
  process.stderr.write = capture(err, writeErr.bind(process.stderr));
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
