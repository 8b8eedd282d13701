// Types of test/fixtures/lstm.json (written by gen_lstm.py) and the fixture
// comparison shared by the LSTM suites (CPU and GPU).
import { tensor, Tensor } from '../../lib';

import type { ConformanceCase, DT, FixtureTensor } from './rnn-fixture';

export type { DT, FixtureTensor };

/** One case of lstm.json's conformance grid: rnn.json's fields (without a mode) plus the cell state and projection. */
export interface LstmCase extends Omit<ConformanceCase, 'mode'> {
  projection: boolean;
  proj_size: number;
  c0: FixtureTensor | null;
  grad_c_n: FixtureTensor;
  c_n: FixtureTensor;
  grad_c0: FixtureTensor | null;
}

/** |ours - torch| <= tol * max(1, |torch|); never loosened to make a mismatch pass. */
export const TOL: Record<DT, number> = { float64: 1e-10, float32: 1e-5 };

export function toTensor(t: FixtureTensor, dtype: DT, device = 'cpu'): Tensor {
  const data = dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data);
  return tensor(data, { shape: t.shape, dtype, device });
}

export function asFixture(t: Tensor): FixtureTensor {
  return { shape: [...t.shape], data: Array.from(t.dataSync()) };
}

/** Human-readable failures of `actual` against the fixture tensor (empty when it matches). */
export function compare(what: string, actual: Tensor | null, expected: FixtureTensor, dtype: DT, tol = TOL[dtype]): string[] {
  if (actual === null) return [`${what}: missing (null), expected shape [${expected.shape.join(', ')}]`];
  const fails: string[] = [];
  if (actual.dtype !== dtype) fails.push(`${what}: dtype ${actual.dtype}, expected ${dtype}`);
  if (actual.shape.length !== expected.shape.length || actual.shape.some((s, i) => s !== expected.shape[i])) {
    return [...fails, `${what}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`];
  }
  const a = actual.dataSync();
  const exp = dtype === 'float64' ? Float64Array.from(expected.data) : Float32Array.from(expected.data);
  let bad = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < exp.length; ++i) {
    const err = Math.abs(a[i] - exp[i]);
    const lim = tol * Math.max(1, Math.abs(exp[i]));
    if (!(err <= lim)) {
      bad += 1;
      const ratio = Number.isNaN(err) ? Infinity : err / lim;
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worst = i;
      }
    }
  }
  if (bad > 0) {
    fails.push(`${what}: ${bad}/${exp.length} elements off; worst at flat index ${worst}: got ${a[worst]}, expected ${exp[worst]} ` +
      `(|diff| = ${Math.abs(a[worst] - exp[worst]).toExponential(3)}, tol ${tol} * max(1, |expected|))`);
  }
  return fails;
}
