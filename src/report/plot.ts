/**
 * Charts as SVG: Vega-Lite specs compiled and rendered headless by vega. Both load on the
 * first chart (they take about a second to import, and vega's canvas module uses top-level
 * await), so importing Distillery, or `require('distillery')`, loads neither.
 */
import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification (vega-lite's TopLevelSpec; kept structural in Distillery's public types). */
export type VegaLiteSpec = object;

let renderer: Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | undefined;

/** Renders a Vega-Lite spec to a standalone SVG string (headless; no browser or canvas needed). */
export async function renderVegaLiteSvg(spec: VegaLiteSpec): Promise<string> {
  renderer ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, compile: vl.compile }));
  const { vega, compile } = await renderer;
  const view = new vega.View(vega.parse(compile(spec as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
