import { DistilleryError } from '../util/errors.js';

/**
 * Store calls of a training worker that must not stop training while the store is away
 * (Redis restarted, network down): a failed call returns undefined, the outage is logged
 * once, and further calls are skipped until an exponentially growing delay has passed.
 * `persist` is for what must not be skipped (the final checkpoint): it retries with the same
 * backoff until it succeeds or `timeoutMs` runs out.
 */
export class StoreGuard {
  private downSince: number | undefined;
  private nextTry = 0;
  private delayMs: number;

  constructor(
    private readonly log: (line: string) => void,
    private readonly storeName: string,
    private readonly minDelayMs = 250,
    private readonly maxDelayMs = 4000,
  ) {
    this.delayMs = minDelayMs;
  }

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** Runs `call` unless the store is in a backoff pause; undefined when skipped or failed. */
  async attempt<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    if (Date.now() < this.nextTry) return undefined;
    try {
      const value = await call();
      this.recovered();
      return value;
    } catch (e) {
      this.failed(what, e);
      return undefined;
    }
  }

  /** Runs `call` until it succeeds, waiting out the backoff between tries, for at most `timeoutMs`. */
  async persist<T>(what: string, call: () => Promise<T>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const wait = this.nextTry - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - Date.now()))));
      try {
        const value = await call();
        this.recovered();
        return value;
      } catch (e) {
        this.failed(what, e);
        if (Date.now() >= deadline) {
          throw new DistilleryError(`${this.storeName}: store unreachable for ${Math.round(timeoutMs / 1000)} s (${what}: ${firstLine(e)})`, 2);
        }
      }
    }
  }

  private failed(what: string, e: unknown): void {
    if (this.downSince === undefined) {
      this.downSince = Date.now();
      this.log(`store ${this.storeName} unreachable (${what}: ${firstLine(e)}); training on with the peers already loaded, retrying with backoff`);
    }
    this.nextTry = Date.now() + this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.maxDelayMs);
  }

  private recovered(): void {
    if (this.downSince !== undefined) this.log(`store ${this.storeName} reachable again after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s`);
    this.downSince = undefined;
    this.nextTry = 0;
    this.delayMs = this.minDelayMs;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
