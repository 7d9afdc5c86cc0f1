export function writeConsumerProject(dir: string, repoRoot: string, tarball: string, opts?: { type?: 'module' | 'commonjs'; name?: string }): { name: string; dependencies: Record<string, string> };
export function treeBytes(dir: string): number;
export function largestPackages(nodeModules: string, count?: number): string[];
export function userEnv(extra?: Record<string, string>): Record<string, string>;
export function tarballName(packed: string): string;
