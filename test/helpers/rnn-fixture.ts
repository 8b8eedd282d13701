// Types of test/fixtures/rnn.json (written by gen_rnn.py), shared by the RNN suites.

/** A tensor as the generator writes it: row-major values and a shape. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export type Mode = 'RNN_TANH' | 'RNN_RELU' | 'GRU';
export type DT = 'float32' | 'float64';
