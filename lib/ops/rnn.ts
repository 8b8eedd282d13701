// The RNN op behind nn.RNN/nn.GRU: one native call for the whole multi-layer
// sequence forward, one for the backward (DESIGN.md decision 2). Inputs are
// already time-major and contiguous; nn/rnn.ts handles layouts and checks.
import { Device, deviceTypeCode } from '../device';
import { DTYPE_CODE, FloatDType, ITEM_SIZE } from '../dtype';
import { isGradEnabled } from '../autograd/grad-mode';
import { native, NO_VIEW, RnnConfigArray, ViewArgs } from '../native';
import { CodedError } from '../errors';
import { Storage } from '../storage';
import { contiguousStrides, Tensor } from '../tensor';
import { viewOf } from './shape';
import { emptyLike, outputLike, record } from './util';

export type RnnMode = 'RNN_RELU' | 'RNN_TANH' | 'LSTM' | 'GRU';

/** cuDNN's cudnnRNNMode_t values, shared with src/cpu/rnn.h. */
const MODE_CODE: Record<RnnMode, number> = { RNN_RELU: 0, RNN_TANH: 1, LSTM: 2, GRU: 3 };

export interface RnnSpec {
  mode: RnnMode;
  dtype: FloatDType;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
}

export interface ParamSlot {
  offset: number;
  shape: number[];
}

const configCache = new WeakMap<RnnSpec, RnnConfigArray>();

/** The native config array; specs are immutable, so it is built once per spec. */
function configArray(spec: RnnSpec): RnnConfigArray {
  let cfg = configCache.get(spec);
  if (cfg === undefined) {
    cfg = [MODE_CODE[spec.mode], DTYPE_CODE[spec.dtype], spec.inputSize, spec.hiddenSize, spec.numLayers, spec.bidirectional, spec.bias];
    configCache.set(spec, cfg);
  }
  return cfg;
}

/**
 * Where each parameter lives in the flat weight buffer of `device`'s backend,
 * in PyTorch's order: our packed layout on the CPU, cuDNN's weight space
 * (located by cudnnGetRNNWeightParams) on a GPU.
 */
export function rnnWeightLayout(spec: RnnSpec, device: Device): { numel: number; slots: ParamSlot[] } {
  const [numel, raw] = native.rnnWeightLayout(configArray(spec), deviceTypeCode(device), device.index);
  const slots = raw.map(([offset, rows, cols]) => ({ offset, shape: cols === 0 ? [rows] : [rows, cols] }));
  return { numel, slots };
}

/** The parameters as views into `flat` at the layout's slots. */
export function paramViews(flat: Tensor, slots: ParamSlot[]): Tensor[] {
  return slots.map((s) => {
    const strides = s.shape.length === 2 ? [s.shape[1], 1] : [1];
    return viewOf(flat, s.shape, strides, flat.offset + s.offset);
  });
}

const view = (t: Tensor | null): ViewArgs => (t === null ? NO_VIEW : t._view());

function withTf32(cfg: RnnConfigArray): RnnConfigArray {
  const [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias] = cfg;
  return [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias, true];
}

/** Outputs this small share one allocation when no graph is recorded. */
const SHARED_OUTPUT_BYTES = 64 * 1024;

/**
 * y and hy, uninitialised. Small inference outputs (a service answering one
 * request at a time) share one storage: one allocation instead of two is a
 * tenth of a small forward's time. hy then keeps y's bytes alive, which is
 * why only small outputs share; and never with a graph, where a write to one
 * would bump the version the backward checks on the other.
 */
function outputPair(x: Tensor, yShape: number[], hyShape: number[], recorded: boolean): [Tensor, Tensor] {
  const item = ITEM_SIZE[x.dtype];
  // hy starts on a 256-byte boundary, as a block of its own would (cuDNN may use vector loads).
  const hyOffset = Math.ceil((yShape[0] * yShape[1] * yShape[2] * item) / 256) * (256 / item);
  const bytes = (hyOffset + hyShape[0] * hyShape[1] * hyShape[2]) * item;
  if (recorded || bytes > SHARED_OUTPUT_BYTES) return [outputLike(x, yShape), outputLike(x, hyShape)];
  const storage = Storage.alloc(bytes, x.deviceObj, false);
  return [new Tensor(storage, yShape, contiguousStrides(yShape), 0, x.dtype), new Tensor(storage, hyShape, contiguousStrides(hyShape), hyOffset, x.dtype)];
}

interface Prepared {
  cfg: RnnConfigArray;
  seqLen: number;
  batch: number;
  y: Tensor;
  hy: Tensor;
  reserve: Tensor | null;
  args: unknown[];
  dropout: number;
}

function prepare(spec: RnnSpec, x: Tensor, hx: Tensor | null, flat: Tensor, wantsReserve: boolean, dropout: number): Prepared {
  // On a GPU the TF32 switch in force now is part of the config, so this
  // forward's backward runs the same cuDNN descriptor whatever happens to the switch.
  const base = configArray(spec);
  const cfg: RnnConfigArray = x.deviceObj.type === 'cuda' && native.cudaGetAllowTf32() ? withTf32(base) : base;
  const [seqLen, batch] = x.shape;
  const dirs = spec.bidirectional ? 2 : 1;
  // The kernel writes every element of y and hy.
  const [y, hy] = outputPair(x, [seqLen, batch, dirs * spec.hiddenSize], [spec.numLayers * dirs, batch, spec.hiddenSize], wantsReserve);
  const device = x.deviceObj;
  const reserve = wantsReserve ? emptyLike(x, [native.rnnReserveNumel(cfg, seqLen, batch, deviceTypeCode(device), device.index, dropout)]) : null;
  const args = [cfg, seqLen, batch, ...x._view(), ...view(hx), ...flat._view(), ...y._view(), ...hy._view(), ...view(reserve), dropout];
  return { cfg, seqLen, batch, y, hy, reserve, args, dropout };
}

export interface RnnRunOptions {
  /** Training mode: dropout between layers is active. */
  training: boolean;
  dropout: number;
  /**
   * Layout temporaries the caller made on the way in (transposed/contiguous
   * input, unsqueezed hx). The backward node may have saved them, so they are
   * disposed with the node when a graph is recorded, else right away.
   */
  temps: Tensor[];
}

function needsReserve(spec: RnnSpec, gradNeeded: boolean, options: RnnRunOptions): boolean {
  // Dropout masks live in the reserve, so training-mode dropout needs one even without autograd.
  return gradNeeded || (options.training && options.dropout > 0 && spec.numLayers > 1);
}

function gradNeededFor(x: Tensor, hx: Tensor | null, params: Tensor[]): boolean {
  return isGradEnabled() && (x.requiresGrad || (hx?.requiresGrad ?? false) || params.some((p) => p.requiresGrad));
}

function recordBackward(spec: RnnSpec, p: Prepared, x: Tensor, hx: Tensor | null, flat: Tensor, params: Tensor[], slots: ParamSlot[], temps: Tensor[]): void {
  const reserve = p.reserve as Tensor;
  // cuDNN's backward reads the forward's output. The node keeps its own view
  // of it, so a user disposing y before backward() changes nothing, while an
  // in-place write to y is still caught by the storage's version.
  const y = viewOf(p.y, p.y.shape, p.y.strides);
  // PyTorch names this node CudnnRnnBackward0 on the GPU; ours is the same fused op on every backend.
  record([p.y, p.hy], 'CudnnRnnBackward0', [x, hx, ...params], ([dy, dhy]) => {
    const wantDx = x.requiresGrad;
    const wantDhx = hx !== null && hx.requiresGrad;
    const wantDw = params.some((q) => q.requiresGrad);
    const dyc = dy === null ? null : dy.isContiguous ? dy : dy.contiguous();
    const dhyc = dhy === null ? null : dhy.isContiguous ? dhy : dhy.contiguous();
    // The backward overwrites dx, dhx and dw completely.
    const dx = wantDx ? outputLike(x) : null;
    const dhx = wantDhx ? outputLike(hx as Tensor) : null;
    const dw = wantDw ? outputLike(flat) : null;
    try {
      native.rnnBackward(p.cfg, p.seqLen, p.batch, ...x._view(), ...view(hx), ...flat._view(), ...y._view(), ...reserve._view(),
        ...view(dyc), ...view(dhyc), ...view(dx), ...view(dhx), ...view(dw), p.dropout);
    } finally {
      if (dyc !== null && dyc !== dy) dyc.dispose();
      if (dhyc !== null && dhyc !== dhy) dhyc.dispose();
    }
    const dws = dw === null ? params.map(() => null) : paramViews(dw, slots).map((g, i) => (params[i].requiresGrad ? g : (g.dispose(), null)));
    dw?.dispose();
    return [dx, dhx, ...dws];
  }, { saved: hx === null ? [x, flat, y, reserve] : [x, hx, flat, y, reserve], owned: [reserve, y, ...temps] });
}

/** After a successful forward: record the backward, or free what only it would need. */
function settle(spec: RnnSpec, p: Prepared, x: Tensor, hx: Tensor | null, flat: Tensor, params: Tensor[], slots: ParamSlot[], gradNeeded: boolean, temps: Tensor[]): void {
  if (gradNeeded) {
    recordBackward(spec, p, x, hx, flat, params, slots, temps);
  } else {
    p.reserve?.dispose();
    for (const t of temps) t.dispose();
  }
}

/**
 * Runs the whole sequence. x: (T, N, I) contiguous; hx: (L*D, N, H)
 * contiguous or null for zeros; flat: the weight buffer whose views `params`
 * are. Returns [y (T, N, D*H), hy (L*D, N, H)].
 */
export function rnnForward(spec: RnnSpec, x: Tensor, hx: Tensor | null, flat: Tensor, params: Tensor[], slots: ParamSlot[], options: RnnRunOptions): [Tensor, Tensor] {
  const gradNeeded = gradNeededFor(x, hx, params);
  const p = prepare(spec, x, hx, flat, needsReserve(spec, gradNeeded, options), options.training ? options.dropout : 0);
  try {
    native.rnnForward(...p.args);
  } catch (err) {
    for (const t of [p.y, p.hy, p.reserve, ...options.temps]) t?.dispose();
    throw err;
  }
  settle(spec, p, x, hx, flat, params, slots, gradNeeded, options.temps);
  return [p.y, p.hy];
}

/** The same computation on libuv's thread pool; storages stay alive until it settles. */
export async function rnnForwardAsync(spec: RnnSpec, x: Tensor, hx: Tensor | null, flat: Tensor, params: Tensor[], slots: ParamSlot[], options: RnnRunOptions): Promise<[Tensor, Tensor]> {
  const gradNeeded = gradNeededFor(x, hx, params);
  const p = prepare(spec, x, hx, flat, needsReserve(spec, gradNeeded, options), options.training ? options.dropout : 0);
  const pinned: Storage[] = [x, hx, flat, p.y, p.hy, p.reserve].filter((t): t is Tensor => t !== null).map((t) => t._storage);
  for (const s of pinned) s.retain();
  try {
    await native.rnnForwardAsync(...p.args);
  } catch (err) {
    for (const t of [p.y, p.hy, p.reserve, ...options.temps]) t?.dispose();
    throw err;
  } finally {
    for (const s of pinned) s.release();
  }
  // Disposed meanwhile (e.g. started inside tidy()): nothing to hand back or record.
  if (p.y.isDisposed || p.hy.isDisposed) {
    for (const t of [p.y, p.hy, p.reserve, ...options.temps]) t?.dispose();
    throw new CodedError('forwardAsync: the outputs were disposed before the forward finished (tidy() cannot wait for async work: keep or dispose them by hand)', 'ERR_CUDNN_RNN_DISPOSED');
  }
  settle(spec, p, x, hx, flat, params, slots, gradNeeded, options.temps);
  return [p.y, p.hy];
}

/**
 * For the GPU bench: mean ms of cudnnRNNForward alone (inference, CUDA
 * events, nothing allocated in the timed loop) on the module's weights, so
 * our per-call overhead over raw cuDNN can be shown. x and hx as forward's,
 * time-major and on the module's GPU.
 */
export function rawCudnnForwardMs(spec: RnnSpec, x: Tensor, hx: Tensor | null, flat: Tensor, iters: number): number {
  const p = prepare(spec, x, hx, flat, false, 0);
  try {
    return native.rnnTimeRawForward(...p.args, iters);
  } finally {
    p.y.dispose();
    p.hy.dispose();
  }
}
