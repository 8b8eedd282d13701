// Types of test/fixtures/lstm.json (written by gen_lstm.py); the conversions and
// the comparison come from rnn-fixture.ts, shared by every RNN suite.
import type { ConformanceCase, DT, FixtureTensor } from './rnn-fixture';

export type { DT, FixtureTensor };
export { asFixture, compare, TOL, toTensor } from './rnn-fixture';

/** One case of lstm.json's conformance grid: rnn.json's fields (without a mode) plus the cell state and projection. */
export interface LstmCase extends Omit<ConformanceCase, 'mode'> {
  projection: boolean;
  proj_size: number;
  c0: FixtureTensor | null;
  grad_c_n: FixtureTensor;
  c_n: FixtureTensor;
  grad_c0: FixtureTensor | null;
}

