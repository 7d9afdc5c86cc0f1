/**
 * Writes the synthetic table of issue #24's data bench, deterministically (same arguments,
 * same bytes): N rows × 30 numeric columns x1…x30, one categorical column `cat` (12 values)
 * and a 10-class label column `label`. The numbers are written as a data team's files hold
 * them: a few decimals (`--format fixed`, toFixed(4), trailing zeros kept), or every digit of a
 * double (`--format full`, as pandas writes a float64: up to 17 significant digits).
 *
 *   node --import tsx bench/dataGen.ts --rows 200000 --out /tmp/data-200k.csv [--format fixed|full] [--seed 1]
 *
 * Generated files belong in /tmp, never in the repository.
 */
import { createWriteStream } from 'node:fs';

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** mulberry32: a small, fast, seeded generator (the bench needs reproducible bytes, not statistical quality). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function writeBenchTable(path: string, rows: number, format: 'fixed' | 'full', seed = 1): Promise<void> {
  const rand = mulberry32(seed);
  const numeric = 30;
  const cats = Array.from({ length: 12 }, (_, k) => `c${String.fromCharCode(97 + k)}`);
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write([...Array.from({ length: numeric }, (_, j) => `x${j + 1}`), 'cat', 'label'].join(',') + '\n');
  let block: string[] = [];
  for (let i = 0; i < rows; i++) {
    const label = Math.floor(rand() * 10);
    const fields: string[] = [];
    for (let j = 0; j < numeric; j++) {
      // a class-dependent mean so that the label is learnable; Box-Muller for a normal draw
      const z = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      const x = z + ((label + j) % 10) * 0.3;
      fields.push(format === 'full' ? String(x * 1.7) : x.toFixed(4));
    }
    fields.push(cats[Math.floor(rand() * cats.length)], `k${label}`);
    block.push(fields.join(','));
    if (block.length === 2000) {
      await write(block.join('\n') + '\n');
      block = [];
    }
  }
  if (block.length) await write(block.join('\n') + '\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

if (process.argv[1]?.endsWith('dataGen.ts')) {
  const rows = Number(opt('rows', '200000'));
  const path = opt('out', `/tmp/distillery-data-${rows}.csv`);
  const format = opt('format', 'fixed') as 'fixed' | 'full';
  await writeBenchTable(path, rows, format, Number(opt('seed', '1')));
  console.log(path);
}
