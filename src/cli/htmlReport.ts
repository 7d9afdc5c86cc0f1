/** The HTML report as a command's output: its target, and where it goes by default (next to the JSON). */
import * as path from 'node:path';
import { HTML_REPORT_SIGNATURE } from '../report/html/page.js';
import { fileSignature, type OutputTarget } from '../util/outputs.js';

/** An HTML report as an output: Distillery's when it starts with the report mark. */
export function htmlOutput(file: string, flag = '--html'): OutputTarget {
  return { path: file, type: 'file', what: 'HTML report', flag, isOurs: fileSignature(HTML_REPORT_SIGNATURE) };
}

/** The HTML report's path: `--html` if given, else next to `--json` (cmp.json → cmp.html), else none. */
export function htmlPathFor(flags: { html?: string; json?: string }): string | undefined {
  if (flags.html) return flags.html;
  if (!flags.json) return undefined;
  const ext = path.extname(flags.json);
  return (ext ? flags.json.slice(0, -ext.length) : flags.json) + '.html';
}
