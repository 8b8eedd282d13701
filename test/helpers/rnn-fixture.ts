// Types of test/fixtures/rnn.json (written by gen_rnn.py), shared by the RNN suites.

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
