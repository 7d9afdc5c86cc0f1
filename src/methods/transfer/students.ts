/**
 * Models of a transfer: the teacher (any network), the intermediate models (MLPs) and the
 * simple student (an MLP of any size, logistic regression = an MLP without hidden layers, or
 * a CART tree), with their complexity (number of parameters) to order them.
 */
import { z } from 'zod';
import type { BuiltinModelConfig, ModelConfig, MlpConfig } from '../../models/config.js';
import { buildModel } from '../../models/build.js';
import { treeComplexity, type TreeConfig } from '../../models/tree.js';
import { InputError } from '../../util/errors.js';

/** The simple model: a network (MLP, logistic regression) or a decision tree. */
export type StudentConfig = MlpConfig | TreeConfig;

export const DEFAULT_TREE: TreeConfig = { kind: 'tree', maxDepth: 8, minLeaf: 5 };

const positiveInt = z.number().int().positive();

/** The schema of a student as written in YAML/JSON: an object, or the command-line shorthand (see parseStudent). */
export const studentConfigSchema = z.union([
  z.string().transform((s, ctx) => {
    try {
      return parseStudent(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }),
  z.object({ kind: z.literal('mlp'), hidden: z.array(positiveInt), activation: z.enum(['relu', 'tanh', 'gelu']).optional(), dropout: z.number().min(0).lt(1).optional() }).strict(),
  z.object({ kind: z.literal('tree'), maxDepth: z.number().int().min(0).max(30).default(DEFAULT_TREE.maxDepth), minLeaf: positiveInt.default(DEFAULT_TREE.minLeaf) }).strict(),
]) as unknown as z.ZodType<StudentConfig, unknown>;

/** How a student is written on the command line. */
export const STUDENT_SYNTAX = 'logreg | mlp:<widths> (e.g. mlp:4, mlp:64,32) | tree[:<maxDepth>[,<minLeaf>]] (e.g. tree:6)';

/** Parses the command-line shorthand of a student (STUDENT_SYNTAX); an InputError naming `source` otherwise. */
export function parseStudent(text: string, source = '--student'): StudentConfig {
  const [kind, rest] = text.trim().split(':', 2);
  const numbers = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(',').map((v) => Number(v.trim())));
  const bad = () => new InputError(source, `"${text}" is not a student; use ${STUDENT_SYNTAX}`);
  if (kind === 'logreg' && rest === undefined) return { kind: 'mlp', hidden: [] };
  if (kind === 'mlp') {
    const hidden = numbers(rest);
    if (hidden.length === 0 || !hidden.every((w) => Number.isInteger(w) && w > 0)) throw bad();
    return { kind: 'mlp', hidden };
  }
  if (kind === 'tree') {
    const [maxDepth = DEFAULT_TREE.maxDepth, minLeaf = DEFAULT_TREE.minLeaf, ...extra] = numbers(rest);
    if (extra.length || !(Number.isInteger(maxDepth) && maxDepth >= 0 && maxDepth <= 30) || !(Number.isInteger(minLeaf) && minLeaf > 0)) throw bad();
    return { kind: 'tree', maxDepth, minLeaf };
  }
  throw bad();
}

/** A short name of an architecture, e.g. "mlp 64-32", "logreg", "tree d=6", "cnn 32c3-64c3/128". */
export function describeArchitecture(config: ModelConfig | TreeConfig): string {
  switch (config.kind) {
    case 'mlp':
      return config.hidden.length === 0 ? 'logreg' : `mlp ${config.hidden.join('-')}`;
    case 'tree':
      return `tree d=${config.maxDepth}`;
    case 'cnn':
      return `cnn ${config.conv.map((c) => `${c.filters}c${c.kernel}`).join('-')}/${config.dense.join('-')}`;
    case 'transformer':
      return `transformer ${config.layers}×${config.dModel}`;
    case 'layers':
      return `tfjs ${String(config.topology.config?.name ?? config.topology.class_name)}`;
  }
}

/** Parameters of a network of `config` on `inputShape` with `numClasses` outputs (an upper bound for a tree). */
export function complexity(config: BuiltinModelConfig | TreeConfig, inputShape: number[], numClasses: number): number {
  if (config.kind === 'tree') return treeComplexity(config, numClasses);
  const model = buildModel(config, inputShape, numClasses, 0);
  const count = model.countParams();
  model.dispose();
  return count;
}

/**
 * The automatic candidates: MLPs with one hidden layer of width w or two of width w, w a power
 * of two from 4 to 2048, strictly between the student and the teacher in parameters; `rungs`
 * of them evenly spaced in log-parameters, most complex first.
 */
export function autoCandidates(teacherParams: number, studentParams: number, inputShape: number[], numClasses: number, rungs: number): MlpConfig[] {
  const all: { config: MlpConfig; params: number }[] = [];
  for (let w = 4; w <= 2048; w *= 2) {
    for (const hidden of [[w], [w, w]]) {
      const config: MlpConfig = { kind: 'mlp', hidden };
      const params = complexity(config, inputShape, numClasses);
      if (params > studentParams && params < teacherParams) all.push({ config, params });
    }
  }
  all.sort((a, b) => b.params - a.params);
  if (all.length <= rungs) return all.map((c) => c.config);
  const logHi = Math.log(teacherParams);
  const logLo = Math.log(studentParams);
  const chosen: typeof all = [];
  for (let r = 1; r <= rungs; r++) {
    const target = logHi - ((logHi - logLo) * r) / (rungs + 1);
    const nearest = all
      .filter((c) => !chosen.includes(c))
      .reduce((best, c) => (Math.abs(Math.log(c.params) - target) < Math.abs(Math.log(best.params) - target) ? c : best));
    chosen.push(nearest);
  }
  return chosen.sort((a, b) => b.params - a.params).map((c) => c.config);
}
