import { InputError } from '../util/errors.js';
import { readInputText } from '../data/read.js';

/** Parses a comma-separated class list (`--classes A,B,C`): names trimmed, none empty, none twice. */
export function parseClassList(flag: string) {
  return (value: string): string[] => checkClassList(value.split(','), flag);
}

function checkClassList(names: string[], source: string, line?: (i: number) => string): string[] {
  const trimmed = names.map((n) => n.trim());
  const seen = new Set<string>();
  trimmed.forEach((name, i) => {
    const where = line ? `${line(i)}: ` : '';
    if (name === '') throw new InputError(source, `${where}empty class name`);
    if (seen.has(name)) throw new InputError(source, `${where}class "${name}" is listed twice`);
    seen.add(name);
  });
  if (trimmed.length < 2) throw new InputError(source, `names ${trimmed.length} class${trimmed.length === 1 ? '' : 'es'}; a classifier needs at least two`);
  return trimmed;
}

/** The declared label space: `--classes`, or `--classes-from` (one class per line; blank lines skipped), or undefined. */
export async function classesFromFlags(flags: { classes?: string[]; classesFrom?: string }): Promise<string[] | undefined> {
  if (flags.classes && flags.classesFrom) throw new InputError('--classes-from', 'give either --classes or --classes-from, not both');
  if (flags.classes) return flags.classes;
  if (!flags.classesFrom) return undefined;
  const lines = (await readInputText(flags.classesFrom)).split(/\r?\n/);
  const kept = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.trim() !== '');
  return checkClassList(kept.map(({ l }) => l), flags.classesFrom, (i) => `line ${kept[i].i + 1}`);
}
