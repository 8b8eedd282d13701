// Types of test/fixtures/rnn.json (written by gen_rnn.py), and the fixture
// conversions and comparison shared by the RNN, LSTM and packed suites (CPU and GPU).
import { tensor, Tensor } from '../../lib';

/** A tensor as the generator writes it: row-major values and a shape. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export type Mode = 'RNN_TANH' | 'RNN_RELU' | 'GRU';
export type DT = 'float32' | 'float64';

/** One case of rnn.json's conformance grid (test/fixtures/gen_rnn.py). */
export interface ConformanceCase {
  name: string;
  mode: Mode;
  bias: boolean;
  batch_first: boolean;
  bidirectional: boolean;
  num_layers: number;
  unbatched: boolean;
  dtype: DT;
  has_h0: boolean;
  input_size: number;
  hidden_size: number;
  seq_len: number;
  batch: number;
  state_dict: Record<string, FixtureTensor>;
  input: FixtureTensor;
  h0: FixtureTensor | null;
  grad_output: FixtureTensor;
  grad_h_n: FixtureTensor;
  output: FixtureTensor;
  h_n: FixtureTensor;
  grad_input: FixtureTensor;
  grad_h0: FixtureTensor | null;
  grad_params: Record<string, FixtureTensor>;
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
