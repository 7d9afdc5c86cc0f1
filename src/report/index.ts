/**
 * `distillery/report`: tables (text, Markdown), the reports of experiments and transfers, and
 * their run directories. Charts (SVG in report.html, the accuracy-vs-churn plot) load vega and
 * vega-lite when the first one is drawn.
 */
export * from './table.js';
export * from './experimentReport.js';
export { perSeedTable } from './experimentTables.js';
export { renderTransferMarkdown, renderTransferText, writeTransferRun, transferSummaryTable } from './transferReport.js';
export { transferPerSeedTable } from './transferTables.js';
export { renderVegaLiteSvg, type VegaLiteSpec } from './plot.js';
