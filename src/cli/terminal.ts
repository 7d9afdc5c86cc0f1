/** Where the CLI writes: results to stdout, messages to stderr. Tests that run the CLI in-process redirect these. */
export const terminal = {
  out: (text: string): void => void process.stdout.write(text),
  err: (text: string): void => void process.stderr.write(text),
};
