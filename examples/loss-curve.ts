// The loss curve as a standalone SVG: training loss (smoothed), held-out loss
// per epoch, and the unigram baseline for reference.
export function lossCurveSvg(train: number[], heldOut: number[], baseline: number): string {
  const w = 640, h = 360, left = 56, right = 16, top = 24, bottom = 40;
  const smooth = movingAverage(train, Math.max(1, Math.floor(train.length / 50)));
  const all = [...smooth, ...heldOut, baseline].filter(Number.isFinite);
  const yMax = Math.max(...all) * 1.05;
  const yMin = Math.min(0, Math.min(...all));
  const x = (i: number, n: number): number => left + ((w - left - right) * i) / Math.max(1, n - 1);
  const y = (v: number): number => top + ((h - top - bottom) * (yMax - v)) / (yMax - yMin);
  const line = (pts: Array<[number, number]>): string => pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
  const trainPts = smooth.map((v, i): [number, number] => [x(i, smooth.length), y(v)]);
  const heldPts = heldOut.map((v, i): [number, number] => [x(((i + 1) * smooth.length) / heldOut.length - 1, smooth.length), y(v)]);
  const ticks = Array.from({ length: 5 }, (_, i) => yMin + ((yMax - yMin) * i) / 4);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    ...ticks.map((t) => `<line x1="${left}" x2="${w - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(2)}</text>`),
    `<line x1="${left}" x2="${w - right}" y1="${y(baseline).toFixed(1)}" y2="${y(baseline).toFixed(1)}" stroke="#999" stroke-dasharray="6 4"/>`,
    `<text x="${w - right}" y="${(y(baseline) - 6).toFixed(1)}" text-anchor="end" fill="#666">unigram baseline ${baseline.toFixed(3)}</text>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${line(trainPts)}"/>`,
    heldPts.length > 0 ? `<polyline fill="none" stroke="#d62728" stroke-width="2" points="${line(heldPts)}"/>` : '',
    ...heldPts.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="#d62728"/>`),
    `<text x="${left}" y="16">loss (nats/char): training (blue, smoothed), held-out per epoch (red)</text>`,
    `<text x="${(w + left) / 2}" y="${h - 10}" text-anchor="middle">training step (${train.length} in all)</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function movingAverage(xs: number[], k: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < xs.length; ++i) {
    sum += xs[i];
    if (i >= k) sum -= xs[i - k];
    out.push(sum / Math.min(i + 1, k));
  }
  return out;
}
