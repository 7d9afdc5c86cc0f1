import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Writes a file via a temporary sibling and a rename, so readers never see half a file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Fills a directory atomically: `fill` writes into a temporary sibling directory, which
 * then replaces `dir` (an existing `dir` is swapped out only after `fill` succeeded).
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  await fs.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    const old = path.join(parent, `.${path.basename(dir)}.old-${process.pid}-${Date.now()}`);
    let hadOld = false;
    try {
      await fs.rename(dir, old);
      hadOld = true;
    } catch (e: any) {
      if (e?.code !== 'ENOENT') throw e;
    }
    await fs.rename(tmp, dir);
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
