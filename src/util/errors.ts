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

/** A parameter's place in a {@link ParamText}. */
export interface ParamRef {
  param: string;
}

/** Text naming parameters: plain pieces and parameters, each named by whoever reports it. */
export type ParamText = (string | ParamRef)[];

/** A parameter in a {@link paramText} template. */
export const param = (name: string): ParamRef => ({ param: name });

/** `paramText\`${param('testSize')} ${n} exceeds …\``: text whose parameters can be renamed. */
export function paramText(strings: TemplateStringsArray, ...values: (string | number | ParamRef)[]): ParamText {
  const parts: ParamText = [strings[0]];
  values.forEach((v, i) => parts.push(typeof v === 'object' ? v : String(v), strings[i + 1]));
  return parts.filter((p) => p !== '');
}

const fill = (text: ParamText): string => text.map((p) => (typeof p === 'string' ? p : p.param)).join('');

/**
 * Whose names a ParamError's parameters carry: a library function's parameters (`testSize`,
 * `initial`), the key paths of an experiment config (`split.initial`, `candidates.0`), or what
 * the user typed (a flag), which nobody renames.
 */
export type ParamNames = 'library' | 'config' | 'user';

/**
 * Bad input traced to named parameters. The message names each as the layer that threw calls it
 * (a library names its parameter, an experiment its config key); a caller that knows where a value
 * came from renames it ({@link renameParams}) to what the user typed: a flag, a config file's key
 * (`distillery: exp.yaml: testSize: 5000 exceeds …`). Printed as is, each parameter is its name.
 */
export class ParamError extends InputError {
  constructor(
    readonly sourceText: ParamText,
    readonly problemText: ParamText,
    readonly names: ParamNames = 'library',
  ) {
    super(fill(sourceText), fill(problemText));
    this.name = 'ParamError';
  }
}

/** A parameter's new name, or undefined to keep it. */
export type ParamRenaming = Record<string, string> | ((name: string) => string | undefined);

/**
 * `e` with its parameters of `from` names renamed by `rename`, as `to` names; any other error
 * (or a ParamError of other names) is returned as it is.
 */
export function renameParams(e: unknown, from: ParamNames, rename: ParamRenaming, to: ParamNames): unknown {
  if (!(e instanceof ParamError) || e.names !== from) return e;
  const name = (p: string) => (typeof rename === 'function' ? rename(p) : rename[p]) ?? p;
  const map = (text: ParamText): ParamText => text.map((part) => (typeof part === 'string' ? part : { param: name(part.param) }));
  const renamed = new ParamError(map(e.sourceText), map(e.problemText), to);
  renamed.stack = e.stack;
  return renamed;
}

/** Runs `fn`, renaming the parameters of a ParamError it throws (see {@link renameParams}). */
export async function withParamNames<T>(from: ParamNames, rename: ParamRenaming, to: ParamNames, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw renameParams(e, from, rename, to);
  }
}

/** The same, for a function that does not return a promise. */
export function withParamNamesSync<T>(from: ParamNames, rename: ParamRenaming, to: ParamNames, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw renameParams(e, from, rename, to);
  }
}

/**
 * Runs `fn`, reporting an error about config keys against the config file they are in:
 * `distillery: <file>: <key>: <problem>`.
 */
export async function inConfigFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ParamError && e.names === 'config') throw new InputError(file, e.message);
    throw e;
  }
}
