/**
 * Runs the real `distillery` CLI (src/cli/main.ts) in this process, capturing what it
 * writes, for tests of many failing commands where a child process per case would cost
 * seconds of start-up each. Exit codes are main()'s; use runCli (a child process) where
 * signals or process exit matter.
 */
import { main } from '../../src/cli/main.js';
import { terminal } from '../../src/cli/terminal.js';
import type { CliResult } from './cli.js';

export async function runCliHere(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const { out, err } = terminal;
  terminal.out = (text) => void (stdout += text);
  terminal.err = (text) => void (stderr += text);
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    Object.assign(terminal, { out, err });
  }
}
