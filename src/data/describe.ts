/** A short human-readable description of one raw example, for review tables (the HTML report's flipped examples). */
import type { RawData } from './types.js';
import { tabularCell } from './columns.js';

const MAX_CHARS = 240;

const clip = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);

/** Tabular: "col=value col=value …"; text: the text; image: its size and mean intensity. Clipped to 240 characters. */
export function describeExample(raw: RawData, i: number): string {
  if (raw.kind === 'tabular') return clip(raw.columns.map((c, j) => `${c}=${tabularCell(raw, i, j)}`).join(' '));
  if (raw.kind === 'text') return clip(raw.texts[i].replace(/\s+/g, ' '));
  const [h, w, c] = raw.shape;
  const size = h * w * c;
  let sum = 0;
  for (let p = i * size; p < (i + 1) * size; p++) sum += raw.pixels[p];
  return `${h}×${w}×${c} image, mean pixel ${(sum / size).toFixed(1)}`;
}

/** An image example's pixels as base64 (grey: the mean over channels), for a thumbnail; undefined for other data. */
export function exampleThumbnail(raw: RawData, i: number): string | undefined {
  if (raw.kind !== 'image') return undefined;
  const [h, w, c] = raw.shape;
  const out = new Uint8Array(h * w);
  const base = i * h * w * c;
  for (let p = 0; p < h * w; p++) {
    let sum = 0;
    for (let k = 0; k < c; k++) sum += raw.pixels[base + p * c + k];
    out[p] = Math.round(sum / c);
  }
  return Buffer.from(out).toString('base64');
}
