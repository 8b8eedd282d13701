// The accuracy contract of the CPU's exp / tanh / sigmoid (src/cpu/vmath.h),
// which every RNN gate and the pointwise ops use, measured in ulps against
// JS's Math.* in float64 (itself within about 1 ulp of float64, far below a
// float32 ulp). The kernels' widest copy for this CPU runs here; CI reruns
// this file with CUDNN_RNN_CPU_ISA=avx2 and =baseline for the other copies.
//   float32: exp and tanh within 2 ulp on [-88, 88]; sigmoid within 2.5 ulp,
//            PyTorch's own formula and accuracy (torch 1.13: 2.46 ulp at worst)
//   float64: relative error within 1e-15 on [-700, 700]
import * as cr from '../lib';

type Op = 'exp' | 'tanh' | 'sigmoid';
const reference: Record<Op, (x: number) => number> = {
  exp: Math.exp,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
};

/** The gap from |v| to the next float32 up: one ulp at v's magnitude. */
function ulp32(v: number): number {
  const a = Math.abs(Math.fround(v));
  const bits = new Uint32Array(new Float32Array([a]).buffer)[0];
  return new Float32Array(new Uint32Array([bits + 1]).buffer)[0] - a;
}

/** Deterministic float32 inputs: every 97th bit pattern in range, plus dense grids where the formulas switch or peak in error. */
function float32Inputs(limit: number): Float32Array {
  const out: number[] = [];
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let b = 0; b < 0x7f800000; b += 97 * 101) {
    u[0] = b;
    if (f[0] <= limit) out.push(f[0], -f[0]);
  }
  for (const centre of [0, 0.625, -0.625, -16.6, 16.6, -4.85, 1, -1, 10, -10, 87, -87]) {
    for (let i = -20000; i <= 20000; ++i) out.push(centre + i * 1e-5);
  }
  return new Float32Array(out.filter((x) => Math.abs(x) <= limit));
}

function worstUlps(op: Op, xs: Float32Array): { ulps: number; at: number } {
  const got = cr.tidy(() => cr[op](cr.tensor(xs)).dataSync() as Float32Array);
  let worst = { ulps: 0, at: NaN };
  for (let i = 0; i < xs.length; ++i) {
    const want = reference[op](xs[i]);
    if (!Number.isFinite(Math.fround(want))) continue;  // exp beyond float32: checked below
    const ulps = Math.abs(got[i] - want) / ulp32(want);
    if (!(ulps <= worst.ulps)) worst = { ulps, at: xs[i] };
  }
  return worst;
}

describe('vmath accuracy (float32, in ulps)', () => {
  const xs = float32Inputs(88);
  test.each([
    ['exp', 2],
    ['tanh', 2],
    ['sigmoid', 2.5],
  ] as [Op, number][])('%s is within %s ulp on [-88, 88]', (op, bound) => {
    const { ulps, at } = worstUlps(op, xs);
    if (ulps > bound) throw new Error(`${op}(${at}) is ${ulps.toFixed(3)} ulp from the correctly rounded result (bound ${bound})`);
    expect(ulps).toBeLessThanOrEqual(bound);
  });

  test('saturation and NaN', () => {
    const edge = new Float32Array([-Infinity, -1000, -200, -104, 89, 100, 1000, Infinity, NaN]);
    const run = (op: Op) => Array.from(cr.tidy(() => cr[op](cr.tensor(edge)).dataSync() as Float32Array));
    expect(run('exp')).toEqual([0, 0, 0, 0, Infinity, Infinity, Infinity, Infinity, NaN]);
    expect(run('tanh')).toEqual([-1, -1, -1, -1, 1, 1, 1, 1, NaN]);
    expect(run('sigmoid')).toEqual([0, 0, 0, 0, 1, 1, 1, 1, NaN]);
  });
});

describe('vmath accuracy (float64, relative)', () => {
  const xs: number[] = [];
  for (let i = -70000; i <= 70000; ++i) xs.push(i / 100 + 0.00123);  // [-700, 700]
  for (let i = -20000; i <= 20000; ++i) xs.push(i * 1e-5);  // near 0, where tanh switches formula
  test.each(['exp', 'tanh', 'sigmoid'] as Op[])('%s is within 1e-15 relative on [-700, 700]', (op) => {
    const got = cr.tidy(() => cr[op](cr.tensor(new Float64Array(xs), { dtype: 'float64' })).dataSync() as Float64Array);
    let worst = 0;
    let at = NaN;
    for (let i = 0; i < xs.length; ++i) {
      const want = reference[op](xs[i]);
      if (want === 0 || !Number.isFinite(want)) continue;
      const rel = Math.abs(got[i] - want) / Math.abs(want);
      if (rel > worst) { worst = rel; at = xs[i]; }
    }
    if (worst > 1e-15) throw new Error(`${op}(${at}) is ${worst.toExponential(2)} relative from Math.${op}`);
    expect(worst).toBeLessThanOrEqual(1e-15);
  });
});
