import { readFile } from 'node:fs/promises';
import { lazy } from './lazy.js';

const yaml = lazy<typeof import('yaml')>('yaml');
import type { z } from 'zod';
import { InputError, ParamError, param } from './errors.js';
import { readProblem } from './fsErrors.js';

type Issue = z.core.$ZodIssue & { errors?: Issue[][]; keys?: string[]; values?: unknown[]; options?: unknown[] };
type PathKey = PropertyKey;

function valueAt(value: unknown, path: readonly PathKey[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * Of the branches of a failed union, the one the input most likely meant: a branch whose
 * first problem is a type mismatch of the whole input, or a missing field, does not apply;
 * among the rest, the one that got deepest into the input.
 */
function bestIssue(issue: Issue, value: unknown): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return issue;
  const rank = (i: Issue): number => {
    const full = [...issue.path, ...i.path];
    if (i.code === 'invalid_type' && (i.path.length === 0 || valueAt(value, full) === undefined)) return -1;
    return i.path.length;
  };
  const candidates = issue.errors.map((b) => b[0]).filter((i): i is Issue => Boolean(i));
  if (!candidates.length) return issue;
  const best = candidates.reduce((a, b) => (rank(b) > rank(a) ? b : a));
  return bestIssue({ ...best, path: [...issue.path, ...best.path] } as Issue, value);
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The known name nearest to `name`, if it is near enough to be a typo. */
export function nearName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(name.toLowerCase(), k.toLowerCase());
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  options?: unknown[];
  discriminator?: string;
  values?: unknown[];
  getter?: () => unknown;
}
const defOf = (schema: unknown): SchemaDef | undefined => (schema as { _zod?: { def?: SchemaDef } })?._zod?.def;

/** The object schemas that could describe the input at `path` (unions: every option that fits). */
function objectsAt(schema: unknown, path: readonly PathKey[], value: unknown): SchemaDef[] {
  const def = defOf(schema);
  if (!def) return [];
  switch (def.type) {
    case 'default':
    case 'optional':
    case 'nullable':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return objectsAt(def.innerType, path, value);
    case 'pipe':
      return [...objectsAt(def.in, path, value), ...objectsAt((def as { out?: unknown }).out, path, value)];
    case 'lazy':
      return def.getter ? objectsAt(def.getter(), path, value) : [];
    case 'union': {
      let options = def.options ?? [];
      const disc = def.discriminator;
      if (disc && value && typeof value === 'object') {
        const tag = (value as Record<string, unknown>)[disc];
        const match = options.filter((o) => defOf(defOf(o)?.shape?.[disc])?.values?.includes(tag));
        if (match.length) options = match;
      }
      return options.flatMap((o) => objectsAt(o, path, value));
    }
    case 'array':
      return path.length ? objectsAt(def.element, path.slice(1), valueAt(value, [path[0]])) : [];
    case 'object':
      if (!path.length) return [def];
      return def.shape && String(path[0]) in def.shape ? objectsAt(def.shape[String(path[0])], path.slice(1), valueAt(value, [path[0]])) : [];
    default:
      return [];
  }
}

/** The first problem zod found, as "field.path: message" (or "(top level): …"), with the near name of a misspelt key or value. */
export function describeZodError(error: z.ZodError, schema?: z.ZodType, value?: unknown): string {
  const { key, problem } = zodProblem(error, schema, value);
  return `${key ?? '(top level)'}: ${problem}`;
}

/** The first problem zod found: the key path it is at (undefined: the top level) and what is wrong. */
function zodProblem(error: z.ZodError, schema?: z.ZodType, value?: unknown): { key?: string; problem: string } {
  // a misspelt key explains the rest (a required key then missing), so it comes first
  const first = (error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]) as Issue;
  const issue = bestIssue(first, value);
  const key = issue.path.length ? issue.path.join('.') : undefined;
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    const known = [...new Set((schema ? objectsAt(schema, issue.path, value) : []).flatMap((d) => Object.keys(d.shape ?? {})))];
    const parts = issue.keys.map((k) => {
      const near = nearName(k, known);
      return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
    });
    return { key, problem: `unknown key${issue.keys.length > 1 ? 's' : ''} ${parts.join(', ')}${known.length ? `; known keys: ${known.join(', ')}` : ''}` };
  }
  const allowed = (issue.values ?? issue.options)?.map(String);
  if ((issue.code === 'invalid_value' || issue.code === 'invalid_union') && allowed?.length) {
    const given = valueAt(value, issue.path);
    const near = typeof given === 'string' ? nearName(given, allowed) : undefined;
    return { key, problem: `${JSON.stringify(given)} is not one of ${allowed.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}` };
  }
  if (issue.code === 'invalid_type' && issue.path.length && valueAt(value, issue.path) === undefined) {
    return { key, problem: `missing (expected ${(issue as { expected?: string }).expected ?? 'a value'})` };
  }
  return { key, problem: issue.message };
}

/**
 * Validates a config that a command built from its flags: a ParamError naming the config key
 * otherwise, which the command renames to the flag the value came from.
 */
export function parseConfigValue<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { key, problem } = zodProblem(parsed.error, schema, value);
  throw new ParamError([key === undefined ? '(top level)' : param(key)], [problem], 'config');
}

/** Validates `value` with `schema`; an InputError naming `source` and the field otherwise. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, source: string, hint = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(source, describeZodError(parsed.error, schema, value) + hint);
  return parsed.data;
}

/**
 * Reads a YAML (or JSON) file and validates it: every problem is one InputError naming the
 * file — missing, unreadable, not YAML, or the first field the schema rejects. An empty file is `{}`.
 */
export async function readYamlFile<S extends z.ZodType>(path: string, schema: S, hint = ''): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, readProblem(err));
  }
  let value: unknown;
  try {
    value = yaml().parse(text);
  } catch (e) {
    throw new InputError(path, `is not valid YAML/JSON: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  return parseWith(schema, value ?? {}, path, hint);
}
