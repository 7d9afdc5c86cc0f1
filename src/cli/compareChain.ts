/** `compare --chain v1 v2 …`: a release history (pairwise churn and NFR between versions). */
import { releaseHistory } from '../metrics/releaseHistory.js';
import { historyTable, renderHistoryHtml } from '../report/html/historyHtml.js';
import { formatRate, renderTextTable } from '../report/table.js';
import { InputError } from '../util/errors.js';
import { writeOutputs } from '../util/outputs.js';
import { LIBRARY_VERSION } from '../version.js';
import { labelColumnFor, loadDataFlag } from './dataInput.js';
import { htmlOutput, htmlPathFor } from './htmlReport.js';
import { checkOutputs } from './outputOptions.js';
import { loadModelOrPredictions, predictWithModel, type Predictions } from './predictions.js';
import { jsonOutput, toIndices, type ComparisonFlags } from './comparison.js';
import type { OutputFlags } from './outputOptions.js';

/** The flags of `compare --chain`. */
export interface ChainFlags extends Omit<ComparisonFlags, 'old' | 'new'>, OutputFlags {
  old?: string;
  new?: string;
  chain: string[];
  json?: string;
  html?: string;
}

const HISTORY_FORMAT = 'distillery-release-history';

/** `compare --chain v1 v2 …`: every version on the data, pairwise churn and NFR (terminal, --json, --html). */
export async function compareChain(flags: ChainFlags, out: (text: string) => void): Promise<void> {
  if (flags.chain.length < 2) throw new InputError('--chain', 'needs at least two versions');
  if (flags.old || flags.new) throw new InputError('--chain', 'replaces --old and --new: give one or the other');
  const html = htmlPathFor(flags);
  await checkOutputs([flags.json ? jsonOutput(flags.json, '--json', HISTORY_FORMAT) : undefined, html ? htmlOutput(html, flags.html ? '--html' : '--json') : undefined], flags);
  const inputs = await Promise.all(flags.chain.map((v) => loadModelOrPredictions(v)));
  const modelSpec = inputs.find((i) => i.model)?.model?.trained.meta.preprocessing;
  const raw = await loadDataFlag({ ...flags, data: flags.data, label: labelColumnFor(flags.label, modelSpec), labelByName: !modelSpec });
  const preds: Predictions[] = [];
  for (const [i, input] of inputs.entries()) {
    const p = input.model ? await predictWithModel(input.model, raw, flags.chain[i]) : input.predictions!;
    if (p.predicted.length !== raw.labels.length) throw new InputError(p.source, `has ${p.predicted.length} predictions but ${flags.data} has ${raw.labels.length} rows`);
    preds.push(p);
  }
  const encoded = preds.map((p) => toIndices(raw, preds[0], p));
  const history = releaseHistory(flags.chain, encoded[0].labels, encoded.map((e) => e.predNew));
  const text = [
    `Release history on ${history.n} examples: accuracy ${flags.chain.map((v, i) => `${v} ${formatRate(history.accuracy[i])}`).join(', ')}`,
    '', 'Churn (row: old version, column: new version)', '', renderTextTable(historyTable(history, 'churn')),
    '', 'NFR (old right, new wrong)', '', renderTextTable(historyTable(history, 'nfr')),
  ].join('\n');
  await writeOutputs([
    ...(flags.json ? [{ path: flags.json, data: JSON.stringify({ format: HISTORY_FORMAT, data: flags.data, ...history }, null, 2) + '\n' }] : []),
    ...(html ? [{ path: html, data: await renderHistoryHtml(history, { data: flags.data, libraryVersion: LIBRARY_VERSION, createdAt: new Date().toISOString() }) }] : []),
  ]);
  out(text);
}

