import { initEngine, type EngineChoice, type EngineInfo } from '../engine/index.js';
import { terminal } from './terminal.js';
import { defaultProgress, type ProgressSink, silentProgress } from '../train/progress.js';
import { showReadProgress } from './readProgress.js';

export interface GlobalFlags {
  verbose?: boolean;
  quiet?: boolean;
  /** false with --no-warnings */
  warnings?: boolean;
  engine?: EngineChoice;
  threads?: number;
}

export interface CliContext {
  engine: EngineInfo;
  progress: ProgressSink;
  /** Progress and status lines go to stderr; results go to stdout. */
  log: (line: string) => void;
  /** A warning: what the user should know about their data or models; on stderr even with -q, silenced by --no-warnings. */
  warn: (message: string) => void;
  verbose: (line: string) => void;
  out: (text: string) => void;
}

/** Initialises the engine and the output channels for one CLI command. */
export async function createContext(flags: GlobalFlags): Promise<CliContext> {
  const engine = await initEngine({ backend: flags.engine, threads: flags.threads });
  const log = flags.quiet ? () => {} : (line: string) => terminal.err(line + '\n');
  showReadProgress(flags.quiet ? undefined : process.stderr);
  if (engine.notice) log(`notice: ${engine.notice}`);
  const verbose = flags.verbose ? log : () => {};
  verbose(`engine: ${engine.backend}, ${engine.threads} thread(s)${engine.blas ? `, ${engine.blas}` : ''}${engine.binary ? `, ${engine.binary}` : ''}`);
  return {
    engine,
    progress: flags.quiet ? silentProgress : defaultProgress(),
    log,
    warn: flags.warnings === false ? () => {} : (message) => terminal.err(`warning: ${message}\n`),
    verbose,
    out: (text) => terminal.out(text.endsWith('\n') ? text : text + '\n'),
  };
}
