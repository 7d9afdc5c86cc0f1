import { readFileSync } from 'node:fs';

/** The package version, read from package.json next to src/ or dist/. */
export const LIBRARY_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return '0.0.0';
  }
})();
