import { Rng } from '../util/rng.js';

/**
 * Rows (indices into the n training rows) of worker `worker`'s shard: a seeded permutation cut
 * into `workers` disjoint, near-equal parts. With `overlap` > 0 the shard also gets that
 * fraction of its size from the rows that follow it in the permutation (the next shards).
 */
export function shardRows(n: number, workers: number, worker: number, overlap: number, seed: number): Int32Array {
  const order = new Rng(seed).fork('codistill-shards').permutation(n);
  const start = Math.floor((worker * n) / workers);
  const end = Math.floor(((worker + 1) * n) / workers);
  const size = end - start;
  const extra = Math.min(Math.round(overlap * size), n - size);
  const rows = new Int32Array(size + extra);
  for (let i = 0; i < rows.length; i++) rows[i] = order[(start + i) % n];
  return rows;
}

/** The smallest shard any worker gets (for checking it against the batch size up front). */
export function smallestShard(n: number, workers: number): number {
  let min = Infinity;
  for (let w = 0; w < workers; w++) min = Math.min(min, Math.floor(((w + 1) * n) / workers) - Math.floor((w * n) / workers));
  return min;
}
