/**
 * Optional packages: features that only some users need load their package when used
 * (package.json's optional peerDependencies). Without it, the feature says in one line which
 * package to install; the CLI prints that line and exits 2.
 */
import { createRequire } from 'node:module';
import { DistilleryError } from './errors.js';

/** The optional packages and the features that need them. */
export const OPTIONAL_PACKAGES = {
  'onnxruntime-node': 'running ONNX models',
  'onnx-proto': 'reading and writing ONNX files',
  ioredis: 'the Redis checkpoint store and job queue',
  bullmq: 'the Redis job queue',
  '@duckdb/node-api': 'reading and writing Parquet files',
  'apache-arrow': 'reading Arrow IPC / Feather files',
} as const;
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** A feature was used without its optional package(s). */
export class MissingPackageError extends DistilleryError {
  readonly packages: OptionalPackage[];
  constructor(packages: OptionalPackage[], feature: string) {
    const list = packages.join(' ');
    super(`${feature} needs the optional package${packages.length > 1 ? 's' : ''} ${packages.join(' and ')}: npm install ${list}`, 2);
    this.name = 'MissingPackageError';
    this.packages = packages;
  }
}

/** True when `e` says that `name` itself (not something it imports) cannot be found. */
function isNotFound(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return false;
  return new RegExp(`(Cannot find (package|module) '${name}['/])|(Cannot find (package|module) '${name}')`).test(err.message);
}

const requireHere = createRequire(import.meta.url);

/** Whether the optional package `name` can be resolved from Distillery's location. */
export function hasOptionalPackage(name: OptionalPackage): boolean {
  try {
    requireHere.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The ESM namespace of optional package `name`, or a MissingPackageError naming what `feature` needs. */
export async function importOptional<T>(name: OptionalPackage, feature: string, alsoNeeded: OptionalPackage[] = []): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    if (isNotFound(e, name)) throw new MissingPackageError(missingOf([name, ...alsoNeeded]), feature);
    throw e;
  }
}

/** Synchronous `require` of a CommonJS optional package, or a MissingPackageError. */
export function requireOptional<T>(name: OptionalPackage, feature: string, alsoNeeded: OptionalPackage[] = []): T {
  try {
    return requireHere(name) as T;
  } catch (e) {
    if (isNotFound(e, name)) throw new MissingPackageError(missingOf([name, ...alsoNeeded]), feature);
    throw e;
  }
}

/** Throws a MissingPackageError when any of `names` is absent (before work that would need them starts). */
export function checkOptional(names: OptionalPackage[], feature: string): void {
  const missing = missingOf(names);
  if (missing.length > 0) throw new MissingPackageError(missing, feature);
}

function missingOf(names: OptionalPackage[]): OptionalPackage[] {
  return [...new Set(names)].filter((n) => !hasOptionalPackage(n));
}
