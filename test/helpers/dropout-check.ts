// PyTorch's test_RNN_dropout, shared by the CPU and the cuDNN suites: a
// 2-layer all-ones relu RNN(10, 1000) whose second layer sees layer 1's
// output after dropout, so the output tells how many units were kept.
import { nn, noGrad, ones, zeros } from '../../lib';

/** An RNN with every weight 1 and no bias, on `device`. */
export function allOnesRelu(hidden: number, numLayers: number, p: number, bidirectional = false, device = 'cpu'): nn.RNN {
  const rnn = new nn.RNN(10, hidden, { numLayers, bias: false, dropout: p, nonlinearity: 'relu', bidirectional, device });
  noGrad(() => {
    for (const w of rnn.parameters()) w.fill_(1);
  });
  return rnn;
}

export function minMax(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; ++i) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  return [lo, hi];
}

/**
 * In training mode the output is 10/(1-p) per kept unit of layer 1 (p=1:
 * zero); in eval mode 10,000. The last layer and every h_n are never dropped.
 */
export function checkAllOnesDropout(p: number, device = 'cpu'): void {
  for (const train of [true, false]) {
    const tag = `train=${train}`;
    const rnn = allOnesRelu(1000, 2, p, false, device);
    if (train) rnn.train();
    else rnn.eval();
    const x = ones([1, 1, 10], { device });
    const h = zeros([2, 1, 1000], { device });
    const [out, hy] = rnn.forward(x, h);
    const o = out.dataSync();
    const [lo, hi] = minMax(o);
    expect([tag, lo]).toEqual([tag, hi]); // the final layer is never dropped
    const v = o[0];
    if (p === 0 || !train) {
      expect([tag, v]).toEqual([tag, 10000]);
    } else if (p === 1) {
      expect([tag, v]).toEqual([tag, 0]); // the second layer saw zeros
    } else {
      // v = 10/(1-p) * kept: kept values are scaled by 1/(1-p).
      const kept = (v * (1 - p)) / 10;
      expect(Math.abs(kept - Math.round(kept))).toBeLessThan(1e-2);
      // Binomial(1000, 1-p): within 5 standard deviations.
      const sd = Math.sqrt(1000 * p * (1 - p));
      expect(Math.abs(kept - 1000 * (1 - p))).toBeLessThan(5 * sd);
    }
    const hv = hy.dataSync();
    expect([tag, minMax(hv.subarray(0, 1000))]).toEqual([tag, [10, 10]]); // h_n is never dropped
    expect([tag, minMax(hv.subarray(1000))]).toEqual([tag, [v, v]]); // h_n[1] == output
    for (const t of [x, h, out, hy]) t.dispose();
    rnn.dispose();
  }
}
