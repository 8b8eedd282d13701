// The cell op behind nn.RNNCell / nn.GRUCell / nn.LSTMCell: one native call
// for a step's forward (both products and the gate maths, fused), one for its
// backward (every gradient at once), DESIGN.md decision 2. Inputs arrive
// batched (N, ·) and contiguous; nn/cells.ts handles the checks and the
// unbatched layout.
import { isGradEnabled } from '../autograd/grad-mode';
import { DTYPE_CODE, FloatDType } from '../dtype';
import { native, NO_VIEW, ViewArgs } from '../native';
import { Tensor } from '../tensor';
import { outputLike, record } from './util';

export type CellMode = 'RNN_TANH' | 'RNN_RELU' | 'GRU' | 'LSTM';

/** cuDNN's cudnnRNNMode_t values, shared with src/core/rnn_contract.h. */
const MODE_CODE: Record<CellMode, number> = { RNN_RELU: 0, RNN_TANH: 1, LSTM: 2, GRU: 3 };

/** Values per batch row the training forward saves, in hidden sizes (save_width in src/core/cell_contract.h). */
const SAVE_WIDTH: Record<CellMode, number> = { RNN_RELU: 1, RNN_TANH: 1, GRU: 4, LSTM: 5 };

/**
 * The backward node's name. PyTorch's CPU cells are chains of ops; its fused
 * CUDA cells are ThnnFused{Gru,Lstm}CellBackward0, which is what ours are on every backend.
 */
const NODE_NAME: Record<CellMode, string> = {
  RNN_TANH: 'RnnTanhCellBackward0', RNN_RELU: 'RnnReluCellBackward0', GRU: 'ThnnFusedGruCellBackward0', LSTM: 'ThnnFusedLstmCellBackward0',
};

export interface CellSpec {
  mode: CellMode;
  dtype: FloatDType;
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
}

/** A cell's parameters, in PyTorch's order; all contiguous, on one device. */
export interface CellWeights {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
}

type CellConfigArray = [number, number, number, number, boolean];

const view = (t: Tensor | null): ViewArgs => (t === null ? NO_VIEW : t._view());

function configArray(spec: CellSpec): CellConfigArray {
  return [MODE_CODE[spec.mode], DTYPE_CODE[spec.dtype], spec.inputSize, spec.hiddenSize, spec.bias];
}

/**
 * One step. x: (N, inputSize); hx, cx: (N, hiddenSize) or null for zeros (cx
 * for LSTM only); all contiguous. `temps` are layout temporaries the caller
 * made on the way in (the node may save them: it owns them when a graph is
 * recorded, else they are disposed here). Returns [h', c'] (c' null but for LSTM).
 */
export function cellStep(spec: CellSpec, x: Tensor, hx: Tensor | null, cx: Tensor | null, w: CellWeights, temps: Tensor[]): [Tensor, Tensor | null] {
  const lstm = spec.mode === 'LSTM';
  const cfg = configArray(spec);
  const batch = x.shape[0];
  const H = spec.hiddenSize;
  const inputs = [x, hx, cx, w.weightIh, w.weightHh, w.biasIh, w.biasHh];
  const gradNeeded = isGradEnabled() && inputs.some((t) => t !== null && t.requiresGrad);
  // The kernel writes every element of hy, cy and save.
  const hy = outputLike(x, [batch, H]);
  const cy = lstm ? outputLike(x, [batch, H]) : null;
  const save = gradNeeded ? outputLike(x, [batch * H * SAVE_WIDTH[spec.mode]]) : null;
  try {
    native.cellForward(cfg, batch, ...x._view(), ...view(hx), ...view(cx), ...w.weightIh._view(), ...w.weightHh._view(),
      ...view(w.biasIh), ...view(w.biasHh), ...hy._view(), ...view(cy), ...view(save));
  } catch (err) {
    for (const t of [hy, cy, save, ...temps]) t?.dispose();
    throw err;
  }
  if (!gradNeeded) {
    for (const t of temps) t.dispose();
    return [hy, cy];
  }
  const s = save as Tensor;
  const kept = [x, hx, cx, w.weightIh, w.weightHh].filter((t): t is Tensor => t !== null);
  record(lstm ? [hy, cy as Tensor] : [hy], NODE_NAME[spec.mode], inputs, ([dhy, dcy]) => {
    const want = (t: Tensor | null): boolean => t !== null && t.requiresGrad;
    const dense = (g: Tensor | null | undefined): Tensor | null => (g == null ? null : g.isContiguous ? g : g.contiguous());
    const dhyc = dense(dhy);
    const dcyc = dense(dcy);
    // The backward overwrites every gradient it is given.
    const grads = inputs.map((t) => (want(t) ? outputLike(t as Tensor) : null));
    const [dx, dhx, dcx, dwIh, dwHh, dbIh, dbHh] = grads;
    try {
      native.cellBackward(cfg, batch, ...x._view(), ...view(hx), ...view(cx), ...w.weightIh._view(), ...w.weightHh._view(), ...s._view(),
        ...view(dhyc), ...view(dcyc), ...view(dx), ...view(dhx), ...view(dcx), ...view(dwIh), ...view(dwHh), ...view(dbIh), ...view(dbHh));
    } catch (err) {
      for (const g of grads) g?.dispose();
      throw err;
    } finally {
      if (dhyc !== null && dhyc !== dhy) dhyc.dispose();
      if (dcyc !== null && dcyc !== dcy) dcyc.dispose();
    }
    return grads;
  }, { saved: [...kept, s], owned: [s, ...temps] });
  return [hy, cy];
}
