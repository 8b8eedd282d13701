// Finite-difference gradient checking (torch.autograd.gradcheck in miniature).
//
// gradcheck(fn, inputs): for L = sum_k <fn(inputs)[k], u_k> with fixed random upstream
// gradients u_k, compares the autograd gradient of every input with central differences
// (L(x + eps e_j) - L(x - eps e_j)) / (2 eps), element by element:
//   |analytic - numeric| <= atol + rtol * |numeric|.
import * as cr from '../../lib';
import type { Tensor } from '../../lib';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the upstream gradients. */
  seed?: number;
  /** Which inputs to check (default: every floating input). */
  check?: boolean[];
}

/** A small deterministic PRNG (mulberry32), independent of the library's generator. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from prng (Box-Muller). */
export function normals(rng: () => number, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

/** A float64 leaf with random N(0,1) values (or values mapped by `map`). */
export function randomInput(rng: () => number, shape: number[], map: (v: number) => number = (v) => v): Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const values = Float64Array.from(normals(rng, n).map(map));
  return cr.tensor(values, { shape, dtype: 'float64', requiresGrad: true });
}

function asList(r: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(r) ? r : [r];
}

/** <outs, ups> computed in JS double precision. */
function dotAll(outs: Tensor[], ups: number[][]): number {
  let s = 0;
  outs.forEach((o, k) => {
    const v = o.dataSync();
    for (let i = 0; i < v.length; ++i) s += v[i] * ups[k][i];
  });
  return s;
}

/**
 * Throws an Error describing the worst mismatch when autograd and finite differences
 * disagree; returns the number of gradient elements checked.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], options: GradcheckOptions = {}): number {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-5;
  const rng = prng(options.seed ?? 1234);
  const check = inputs.map((x, i) => (options.check ? options.check[i] : x.dtype !== 'int32'));
  let checked = 0;
  cr.tidy(() => {
    for (const x of inputs) {
      if (x.grad !== null) {
        x.grad.dispose();
        x.grad = null;
      }
    }
    // Analytic gradients.
    const outs = asList(fn(...inputs));
    // Upstream values are float32-representable so the same numbers serve float32 outputs.
    const ups = outs.map((o) => normals(rng, o.numel).map(Math.fround));
    const upTensors = outs.map((o, k) => cr.tensor(Float64Array.from(ups[k]), { shape: o.shape as number[], dtype: 'float64' }).to(o.dtype));
    let loss: Tensor | null = null;
    outs.forEach((o, k) => {
      if (!o.requiresGrad) return;
      const term = cr.sum(cr.mul(o, upTensors[k]).to('float64'));
      loss = loss === null ? term : cr.add(loss, term);
    });
    if (loss === null) throw new Error('gradcheck: no output requires grad');
    (loss as Tensor).backward();
    const analytic = inputs.map((x, i) => {
      if (!check[i]) return null;
      return x.grad === null ? new Float64Array(x.numel) : Float64Array.from(x.grad.dataSync());
    });

    // Numeric gradients: fresh perturbed copies of each input, evaluated without grad.
    const base = inputs.map((x) => Float64Array.from(x.dataSync()));
    const evalAt = (i: number, j: number, delta: number): number => cr.tidy(() => cr.noGrad(() => {
      const xs = inputs.map((x, k) => {
        if (k !== i) return x;
        const v = Float64Array.from(base[k]);
        v[j] += delta;
        return cr.tensor(v, { shape: x.shape as number[], dtype: 'float64' }).to(x.dtype);
      });
      return dotAll(asList(fn(...xs)), ups);
    }));
    const problems: string[] = [];
    inputs.forEach((x, i) => {
      if (!check[i]) return;
      const a = analytic[i] as Float64Array;
      for (let j = 0; j < x.numel; ++j) {
        const numeric = (evalAt(i, j, eps) - evalAt(i, j, -eps)) / (2 * eps);
        checked += 1;
        if (!(Math.abs(a[j] - numeric) <= atol + rtol * Math.abs(numeric))) {
          problems.push(`input ${i} element ${j}: autograd ${a[j]}, finite differences ${numeric}`);
        }
      }
    });
    if (problems.length > 0) {
      throw new Error(`gradcheck failed (${problems.length} of ${checked} elements): ${problems.slice(0, 6).join('; ')}`);
    }
  });
  return checked;
}
