import { z } from 'zod';
import { InputError } from '../util/errors.js';
import type { MethodDefinition } from './definition.js';
import * as recipes from './recipes/index.js';

type Recipes = typeof recipes;
type Recipe = Recipes[keyof Recipes];

/** The name of a registered method. */
export type MethodName = Recipe['name'];

/** Parameters as an object type; a method without parameters has `{}` (not an index signature). */
type Params<P> = string extends keyof P ? {} : P;

/** A method with its parameters, defaults filled in (what trainUpdate runs). Derived from the registry. */
export type UpdateMethodSpec = { [K in keyof Recipes]: { method: Recipes[K]['name'] } & Params<z.output<Recipes[K]['params']>> }[keyof Recipes];

/** A method as a caller writes it: parameters with defaults may be left out. */
export type UpdateMethodInput = { [K in keyof Recipes]: { method: Recipes[K]['name'] } & Params<z.input<Recipes[K]['params']>> }[keyof Recipes];

/** Every registered method, in name order. */
export const METHODS: readonly MethodDefinition[] = (Object.values(recipes) as MethodDefinition[]).sort((a, b) => a.name.localeCompare(b.name));

export const METHOD_NAMES = METHODS.map((m) => m.name) as MethodName[];

/** Methods usable as one hop of a transfer chain (their definitions' `transferHop`). */
export const HOP_METHODS = METHODS.filter((m) => m.transferHop).map((m) => m.name) as MethodName[];

/** Methods whose every parameter has a default: these may be written as a bare name. */
export const BARE_METHOD_NAMES = METHODS.filter((m) => m.params.safeParse({}).success).map((m) => m.name) as MethodName[];

/** The definition of a registered method; an InputError naming `source` for any other name. */
export function methodNamed(name: string, source = 'method'): MethodDefinition {
  const found = METHODS.find((m) => m.name === name);
  if (!found) throw new InputError(source, `unknown method "${name}" (methods: ${METHOD_NAMES.join(', ')})`);
  return found;
}

/** The parameters of a spec (everything but `method`). */
export function methodParams(spec: UpdateMethodSpec | UpdateMethodInput): Record<string, unknown> {
  const { method: _method, ...params } = spec;
  return params;
}

/** Validates a method and fills in its defaults; errors name `source` and the parameter. */
export function resolveMethod(input: UpdateMethodInput | MethodName, source = 'method'): UpdateMethodSpec {
  const spec = typeof input === 'string' ? { method: input } : input;
  const def = methodNamed(spec.method, source);
  const parsed = def.params.safeParse(methodParams(spec as UpdateMethodInput));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(source, `${def.name}: ${issue.path.join('.') || 'parameters'}: ${issue.message}`);
  }
  return { method: def.name, ...parsed.data } as UpdateMethodSpec;
}

/** A short human label, e.g. "distill λ=0.5". */
export function describeMethod(spec: UpdateMethodSpec): string {
  return methodNamed(spec.method).label(methodParams(spec));
}

/** The default of one parameter from its schema, or undefined when it has none (required). */
export function parameterDefault(def: MethodDefinition, param: string): unknown {
  const field = def.params.shape[param] as z.ZodType | undefined;
  const parsed = field?.safeParse(undefined);
  return parsed?.success ? parsed.data : undefined;
}

/**
 * A method entry of an experiment config: a bare name (methods whose parameters all have
 * defaults) or `{method, …parameters}`; unknown parameters are an error.
 */
export function methodEntrySchema() {
  const objects = METHODS.map((m) => z.object({ method: z.literal(m.name) }).extend(m.params.shape).strict());
  return z.union([
    z.enum(BARE_METHOD_NAMES as [MethodName, ...MethodName[]]),
    z.discriminatedUnion('method', objects as unknown as [z.ZodObject<{ method: z.ZodLiteral<string> }>, ...z.ZodObject<{ method: z.ZodLiteral<string> }>[]]),
  ]);
}
