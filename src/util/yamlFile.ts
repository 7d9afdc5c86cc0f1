import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { InputError } from './errors.js';

/** The first problem zod found, as "field.path: message" (or "(top level): …"). */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`;
}

/** Validates `value` with `schema`; an InputError naming `source` and the field otherwise. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, source: string, hint = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(source, describeZodError(parsed.error) + hint);
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
    throw new InputError(path, err?.code === 'ENOENT' ? 'file not found' : `cannot be read (${err?.message})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new InputError(path, `is not valid YAML/JSON: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  return parseWith(schema, value ?? {}, path, hint);
}
