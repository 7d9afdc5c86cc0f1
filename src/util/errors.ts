/**
 * Errors that Distillery reports to a user. The CLI prints `message` on one line and
 * exits with `exitCode` (2 for bad input, as documented in the README).
 */
export class DistilleryError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'DistilleryError';
    this.exitCode = exitCode;
  }
}

/** Bad input: a file or value that cannot be used. `source` names the file or option. */
export class InputError extends DistilleryError {
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`, 2);
    this.name = 'InputError';
    this.source = source;
  }
}

/** Throws an InputError when `condition` is false. */
export function ensure(condition: unknown, source: string, problem: string): asserts condition {
  if (!condition) throw new InputError(source, problem);
}
