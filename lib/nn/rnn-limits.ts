// What an RNN's sizes may be: checked before anything is allocated, so that a
// huge or mistyped size is a clear error naming the argument instead of an
// aborted process, an endless loop or a module with no parameters.
import * as os from 'os';
import { Device } from '../device';
import { FloatDType, ITEM_SIZE } from '../dtype';
import { CodedError } from '../errors';

/** GEMM dimensions (rows of a gate block, columns) are 32-bit BLAS/cuDNN integers. */
export const MAX_RNN_INDEX = 2 ** 31 - 1;
/**
 * Each parameter is a JS tensor object (hundreds of bytes of V8 heap); beyond
 * this many the heap limit, not the weights, would abort the process.
 */
export const MAX_RNN_PARAMETERS = 2 ** 20;

const GATES: Record<string, number> = { RNN_TANH: 1, RNN_RELU: 1, GRU: 3, LSTM: 4 };

export interface RnnSizes {
  mode: string;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
}

/** The flat weight buffer's element count (PyTorch's packing; the CPU layout is the same size). */
export function rnnWeightNumel(s: RnnSizes): number {
  const gates = GATES[s.mode] ?? 1;
  const dirs = s.bidirectional ? 2 : 1;
  let numel = 0;
  for (let l = 0; l < Math.min(s.numLayers, 2); ++l) {
    const input = l === 0 ? s.inputSize : dirs * s.hiddenSize;
    const perDir = gates * s.hiddenSize * (input + s.hiddenSize) + (s.bias ? 2 * gates * s.hiddenSize : 0);
    numel += dirs * perDir * (l === 0 ? 1 : s.numLayers - 1);
  }
  return numel;
}

/** Throws a RangeError naming the argument when the sizes cannot be allocated or indexed. */
export function checkRnnSizes(where: string, s: RnnSizes, dtype: FloatDType, device: Device): void {
  const gates = GATES[s.mode] ?? 1;
  const dirs = s.bidirectional ? 2 : 1;
  const limit = (arg: string, value: number, max: number, why: string): void => {
    if (value > max) throw new RangeError(`${where}: expected ${arg} to be at most ${max} (${why}), but got ${value}`);
  };
  limit('input_size', s.inputSize, MAX_RNN_INDEX, 'sizes are 32-bit BLAS indices');
  limit('hidden_size', s.hiddenSize, Math.floor(MAX_RNN_INDEX / (gates * dirs)), `${gates * dirs} gate block(s) of hidden_size rows must fit a 32-bit BLAS index`);
  limit('num_layers', s.numLayers, Math.floor(MAX_RNN_PARAMETERS / (dirs * (s.bias ? 4 : 2))), `at most ${MAX_RNN_PARAMETERS} parameter tensors`);
  const bytes = rnnWeightNumel(s) * ITEM_SIZE[dtype];
  const hostLimit = os.totalmem();
  if (device.type === 'cpu' && !(bytes <= hostLimit)) {
    throw new CodedError(
      `${where}(input_size=${s.inputSize}, hidden_size=${s.hiddenSize}, num_layers=${s.numLayers}): DefaultCPUAllocator: can't allocate memory: you tried to allocate ${bytes} bytes for the ${dtype} parameters, more than this machine's ${hostLimit} bytes of memory`,
      'ERR_CUDNN_RNN_OUT_OF_MEMORY');
  }
}

/** An allocation failure of the parameters, restated with the arguments that sized them. */
export function rnnAllocationError(where: string, s: RnnSizes, err: unknown): unknown {
  if ((err as { code?: unknown } | null)?.code !== 'ERR_CUDNN_RNN_OUT_OF_MEMORY') return err;
  return new CodedError(
    `${where}(input_size=${s.inputSize}, hidden_size=${s.hiddenSize}, num_layers=${s.numLayers}): cannot allocate the parameters: ${(err as Error).message}`,
    'ERR_CUDNN_RNN_OUT_OF_MEMORY');
}
