import { Command, Option } from 'commander';
import { METHODS, METHOD_NAMES, methodNamed, parameterDefault, type MethodName, type UpdateMethodSpec } from '../methods/registry.js';
import type { MethodDefinition, MethodFlag } from '../methods/definition.js';
import { InputError } from '../util/errors.js';
import { optionKey, parseNumber, parseNumberList } from './options.js';

/** Every (method, parameter, flag) of the registry. */
function methodFlags(): { def: MethodDefinition; param: string; flag: MethodFlag }[] {
  return METHODS.flatMap((def) => Object.entries(def.flags).map(([param, flag]) => ({ def, param, flag: flag as MethodFlag })));
}

function formatDefault(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Adds `--method` (choices from the registry) and every method's parameter flags: a flag
 * shared by several methods is one option whose help names each method's meaning. The
 * help after the options lists every method with its one-line description.
 */
export function addMethodOptions(cmd: Command, defaultMethod: MethodName): Command {
  cmd.addOption(new Option('--method <name>', 'how to train the new model').choices([...METHOD_NAMES]).default(defaultMethod));
  const byFlag = new Map<string, { def: MethodDefinition; param: string; flag: MethodFlag }[]>();
  for (const entry of methodFlags()) byFlag.set(entry.flag.flag, [...(byFlag.get(entry.flag.flag) ?? []), entry]);
  for (const [flag, entries] of byFlag) {
    const numbers = entries.some((e) => e.flag.value === 'numbers');
    const kind = entries[0].flag.value ?? 'number';
    if (entries.some((e) => (e.flag.value ?? 'number') !== kind && !(numbers && (e.flag.value ?? 'number') === 'number'))) {
      throw new Error(`methods share ${flag} with different kinds of value`);
    }
    const name = flag.replace(/^--/, '');
    const help = entries
      .map(({ def, param, flag: f }) => {
        const d = parameterDefault(def, param);
        return `${def.name}: ${f.help}${d === undefined ? '' : ` (default ${formatDefault(d)})`}`;
      })
      .join('; ');
    if (kind === 'boolean') {
      cmd.addOption(new Option(flag, help));
      cmd.addOption(new Option(flag.replace(/^--/, '--no-'), `turn ${flag} off`));
    } else if (kind === 'choice') {
      const choices = [...new Set(entries.flatMap((e) => e.flag.choices ?? []))];
      cmd.addOption(new Option(`${flag} <name>`, help).choices(choices));
    } else {
      const parse: (value: string) => number | number[] = numbers ? parseNumberList(name) : parseNumber(name);
      cmd.addOption(new Option(`${flag} <${numbers ? 'list' : 'x'}>`, help).argParser(parse));
    }
  }
  const width = Math.max(...METHOD_NAMES.map((n) => n.length)) + 2;
  cmd.addHelpText('after', '\nMethods (see docs/methods.md):\n' + METHODS.map((m) => `  ${m.name.padEnd(width)} ${m.description}`).join('\n') + '\n');
  return cmd;
}

/**
 * The method spec from the flags, defaults filled in. A flag of another method, a missing
 * required parameter or a value out of range is an InputError naming the flag.
 */
export function methodFromFlags(flags: Record<string, unknown> & { method: string }): UpdateMethodSpec {
  const def = methodNamed(flags.method, '--method');
  for (const { def: other, flag } of methodFlags()) {
    const own = Object.values(def.flags).some((f) => (f as MethodFlag).flag === flag.flag);
    if (other !== def && !own && flags[optionKey(flag.flag)] !== undefined) {
      throw new InputError(flag.flag, `does not apply to --method ${def.name}`);
    }
  }
  const params: Record<string, unknown> = {};
  for (const [param, flag] of Object.entries(def.flags)) {
    const value = flags[optionKey((flag as MethodFlag).flag)];
    if (value !== undefined) params[param] = value;
  }
  const parsed = def.params.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = String(issue.path[0] ?? '');
    const flag = (def.flags as Record<string, MethodFlag | undefined>)[param]?.flag ?? `--method ${def.name}`;
    const message = params[param] === undefined ? `is required with --method ${def.name}` : issue.message;
    throw new InputError(flag, message);
  }
  return { method: def.name, ...parsed.data } as UpdateMethodSpec;
}
