/**
 * Ctrl-C (SIGINT) and SIGTERM stop a command at a safe point. Handlers run between event-loop
 * turns, so at any such moment every output is either complete or a temporary (renamed into
 * place at once, see outputs.ts); the few steps that must run together (swapping several
 * outputs in) run inside {@link critical}, and a signal arriving then is acted on after it.
 */
let depth = 0;
let deferred: NodeJS.Signals | undefined;
let handler: ((signal: NodeJS.Signals) => void) | undefined;

/** Runs `f` with interruption deferred until it is done. */
export async function critical<T>(f: () => Promise<T>): Promise<T> {
  depth++;
  try {
    return await f();
  } finally {
    depth--;
    if (depth === 0 && deferred && handler) {
      const s = deferred;
      deferred = undefined;
      handler(s);
    }
  }
}

/**
 * Installs `onSignal` for SIGINT and SIGTERM (replacing an earlier one); returns a function
 * that removes it. A second signal while one is deferred is acted on at once.
 */
export function onInterrupt(onSignal: (signal: NodeJS.Signals) => void): () => void {
  handler = onSignal;
  const listener = (signal: NodeJS.Signals) => {
    if (depth > 0 && !deferred) deferred = signal;
    else onSignal(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
    if (handler === onSignal) handler = undefined;
  };
}

/** Lets pending signal handlers run (a long synchronous loop calls this between steps). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
