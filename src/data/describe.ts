/** A short human-readable description of one raw example, for review tables (the HTML report's flipped examples). */
import type { RawData } from './types.js';

const MAX_CHARS = 240;

const clip = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);

/** Tabular: "col=value col=value …"; text: the text; image: its size and mean intensity. Clipped to 240 characters. */
export function describeExample(raw: RawData, i: number): string {
  if (raw.kind === 'tabular') return clip(raw.columns.map((c, j) => `${c}=${raw.rows[i][j]}`).join(' '));
  if (raw.kind === 'text') return clip(raw.texts[i].replace(/\s+/g, ' '));
  const [h, w, c] = raw.shape;
  const size = h * w * c;
  let sum = 0;
  for (let p = i * size; p < (i + 1) * size; p++) sum += raw.pixels[p];
  return `${h}×${w}×${c} image, mean pixel ${(sum / size).toFixed(1)}`;
}
