// The RNN op behind nn.RNN/GRU/LSTM: one native call for the whole multi-layer
// sequence forward, one for the backward (DESIGN.md decision 2). Inputs are
// already time-major and contiguous; nn/rnn.ts handles layouts and checks.
import { Device, deviceTypeCode } from '../device';
import { DTYPE_CODE, FloatDType, ITEM_SIZE } from '../dtype';
import { isGradEnabled } from '../autograd/grad-mode';
import { native, NO_VIEW, RnnConfigArray, ViewArgs } from '../native';
import { CodedError } from '../errors';
import { Storage } from '../storage';
import { contiguousStrides, shapeNumel, Tensor } from '../tensor';
import { viewOf } from './shape';
import { outputLike, record } from './util';

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
  /** LSTM only: units of the projection (PyTorch's proj_size), 0 = none. */
  projSize: number;
}

/** Units of h (hx, hy, every output row): projSize when the LSTM projects, else hiddenSize. */
export function outputSize(spec: RnnSpec): number {
  return spec.projSize > 0 ? spec.projSize : spec.hiddenSize;
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
    cfg = [MODE_CODE[spec.mode], DTYPE_CODE[spec.dtype], spec.inputSize, spec.hiddenSize, spec.numLayers, spec.bidirectional, spec.bias, false, spec.projSize];
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
  const [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias, , projSize] = cfg;
  return [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias, true, projSize];
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
  const hyOffset = Math.ceil((shapeNumel(yShape) * item) / 256) * (256 / item);
  const bytes = (hyOffset + shapeNumel(hyShape)) * item;
  if (recorded || bytes > SHARED_OUTPUT_BYTES) return [outputLike(x, yShape), outputLike(x, hyShape)];
  const storage = Storage.alloc(bytes, x.deviceObj, false);
  return [new Tensor(storage, yShape, contiguousStrides(yShape), 0, x.dtype), new Tensor(storage, hyShape, contiguousStrides(hyShape), hyOffset, x.dtype)];
}

interface Prepared {
  cfg: RnnConfigArray;
  /** The step count, or a packed input's batch sizes (the native seqLen argument). */
  seqLen: number | number[];
  batch: number;
  y: Tensor;
  hy: Tensor;
  /** LSTM: the final cell state; null for RNN/GRU. */
  cy: Tensor | null;
  reserve: Tensor | null;
  args: unknown[];
  dropout: number;
}

/** The initial state: h0 (RNN/GRU/LSTM) and the LSTM's c0; null for zeros. */
export interface RnnState {
  hx: Tensor | null;
  cx: Tensor | null;
}

function prepare(spec: RnnSpec, x: Tensor, state: RnnState, flat: Tensor, wantsReserve: boolean, dropout: number, batchSizes: number[] | null = null): Prepared {
  // On a GPU the TF32 switch in force now is part of the config, so this
  // forward's backward runs the same cuDNN descriptor whatever happens to the switch.
  const base = configArray(spec);
  const cfg: RnnConfigArray = x.deviceObj.type === 'cuda' && native.cudaGetAllowTf32() ? withTf32(base) : base;
  // Packed input: x is (sum(batchSizes), I), step t's batchSizes[t] rows after step t-1's.
  const [seqLen, batch] = batchSizes === null ? x.shape : [batchSizes.length, batchSizes[0]];
  const dirs = spec.bidirectional ? 2 : 1;
  const units = outputSize(spec);
  const yShape = batchSizes === null ? [seqLen, batch, dirs * units] : [x.shape[0], dirs * units];
  // The kernel writes every element of y, hy and cy.
  const [y, hy] = outputPair(x, yShape, [spec.numLayers * dirs, batch, units], wantsReserve);
  const cy = spec.mode === 'LSTM' ? outputLike(x, [spec.numLayers * dirs, batch, spec.hiddenSize]) : null;
  const device = x.deviceObj;
  // Not zero-filled: the training forward writes every part of the reserve
  // its backward reads (the CPU backend's header says whether dropout masks
  // were drawn; cuDNN owns its own), and a training step's reserve is tens of MB.
  const reserve = wantsReserve ? outputLike(x, [native.rnnReserveNumel(cfg, batchSizes ?? seqLen, batch, deviceTypeCode(device), device.index, dropout)]) : null;
  const seqArg = batchSizes === null ? seqLen : batchSizes;
  const args = [cfg, seqArg, batch, ...x._view(), ...view(state.hx), ...view(state.cx), ...flat._view(), ...y._view(), ...hy._view(), ...view(cy), ...view(reserve), dropout];
  return { cfg, seqLen: seqArg, batch, y, hy, cy, reserve, args, dropout };
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
  /** Packed input (a PackedSequence's batch sizes): x is (sum, I) and y (sum, D*R). */
  batchSizes?: number[];
}

function needsReserve(spec: RnnSpec, gradNeeded: boolean, options: RnnRunOptions): boolean {
  // Dropout masks live in the reserve, so training-mode dropout needs one even without autograd.
  return gradNeeded || (options.training && options.dropout > 0 && spec.numLayers > 1);
}

function gradNeededFor(x: Tensor, state: RnnState, params: Tensor[]): boolean {
  return isGradEnabled() && (x.requiresGrad || (state.hx?.requiresGrad ?? false) || (state.cx?.requiresGrad ?? false) || params.some((p) => p.requiresGrad));
}

const contiguousOrNull = (t: Tensor | null): Tensor | null => (t === null || t.isContiguous ? t : t.contiguous());

function recordBackward(spec: RnnSpec, p: Prepared, x: Tensor, state: RnnState, flat: Tensor, params: Tensor[], slots: ParamSlot[], temps: Tensor[]): void {
  const { hx, cx } = state;
  const reserve = p.reserve as Tensor;
  // cuDNN's backward reads the forward's output. The node keeps its own view
  // of it, so a user disposing y before backward() changes nothing, while an
  // in-place write to y is still caught by the storage's version.
  const y = viewOf(p.y, p.y.shape, p.y.strides);
  // PyTorch names this node CudnnRnnBackward0 on the GPU; ours is the same fused op on every backend.
  const outputs = p.cy === null ? [p.y, p.hy] : [p.y, p.hy, p.cy];
  record(outputs, 'CudnnRnnBackward0', [x, hx, cx, ...params], ([dy, dhy, dcy]) => {
    const wantDx = x.requiresGrad;
    const wantDhx = hx !== null && hx.requiresGrad;
    const wantDcx = cx !== null && cx.requiresGrad;
    const wantDw = params.some((q) => q.requiresGrad);
    const upstream = [dy, dhy, dcy ?? null];
    const contiguousUpstream = upstream.map(contiguousOrNull);
    // The backward overwrites dx, dhx, dcx and dw completely.
    const dx = wantDx ? outputLike(x) : null;
    const dhx = wantDhx ? outputLike(hx as Tensor) : null;
    const dcx = wantDcx ? outputLike(cx as Tensor) : null;
    const dw = wantDw ? outputLike(flat) : null;
    const [dyc, dhyc, dcyc] = contiguousUpstream;
    try {
      native.rnnBackward(p.cfg, p.seqLen, p.batch, ...x._view(), ...view(hx), ...view(cx), ...flat._view(), ...y._view(), ...reserve._view(),
        ...view(dyc), ...view(dhyc), ...view(dcyc), ...view(dx), ...view(dhx), ...view(dcx), ...view(dw), p.dropout);
    } finally {
      contiguousUpstream.forEach((c, i) => {
        if (c !== null && c !== upstream[i]) c.dispose();
      });
    }
    const dws = dw === null ? params.map(() => null) : paramViews(dw, slots).map((g, i) => (params[i].requiresGrad ? g : (g.dispose(), null)));
    dw?.dispose();
    return [dx, dhx, dcx, ...dws];
  }, { saved: [x, hx, cx, flat, y, reserve].filter((t): t is Tensor => t !== null), owned: [reserve, y, ...temps] });
}

/** After a successful forward: record the backward, or free what only it would need. */
function settle(spec: RnnSpec, p: Prepared, x: Tensor, state: RnnState, flat: Tensor, params: Tensor[], slots: ParamSlot[], gradNeeded: boolean, temps: Tensor[]): void {
  if (gradNeeded) {
    recordBackward(spec, p, x, state, flat, params, slots, temps);
  } else {
    p.reserve?.dispose();
    for (const t of temps) t.dispose();
  }
}

/**
 * Runs the whole sequence. x: (T, N, I) contiguous; state.hx: (L*D, N, R)
 * and, LSTM only, state.cx: (L*D, N, H), contiguous or null for zeros (R =
 * outputSize(spec)); flat: the weight buffer whose views `params` are.
 * Returns [y (T, N, D*R), hy (L*D, N, R), cy (L*D, N, H) for an LSTM, else null].
 * With options.batchSizes, x is packed (sum(batchSizes), I) in sorted order,
 * y (sum(batchSizes), D*R), and hy each sequence's state at its last step.
 */
export function rnnForward(spec: RnnSpec, x: Tensor, state: RnnState, flat: Tensor, params: Tensor[], slots: ParamSlot[], options: RnnRunOptions): [Tensor, Tensor, Tensor | null] {
  const gradNeeded = gradNeededFor(x, state, params);
  const p = prepare(spec, x, state, flat, needsReserve(spec, gradNeeded, options), options.training ? options.dropout : 0, options.batchSizes ?? null);
  try {
    native.rnnForward(...p.args);
  } catch (err) {
    for (const t of [p.y, p.hy, p.cy, p.reserve, ...options.temps]) t?.dispose();
    throw err;
  }
  settle(spec, p, x, state, flat, params, slots, gradNeeded, options.temps);
  return [p.y, p.hy, p.cy];
}

/** The same computation on libuv's thread pool; storages stay alive until it settles. */
export async function rnnForwardAsync(spec: RnnSpec, x: Tensor, state: RnnState, flat: Tensor, params: Tensor[], slots: ParamSlot[], options: RnnRunOptions): Promise<[Tensor, Tensor, Tensor | null]> {
  const gradNeeded = gradNeededFor(x, state, params);
  const p = prepare(spec, x, state, flat, needsReserve(spec, gradNeeded, options), options.training ? options.dropout : 0, options.batchSizes ?? null);
  const pinned: Storage[] = [x, state.hx, state.cx, flat, p.y, p.hy, p.cy, p.reserve].filter((t): t is Tensor => t !== null).map((t) => t._storage);
  for (const s of pinned) s.retain();
  try {
    await native.rnnForwardAsync(...p.args);
  } catch (err) {
    for (const t of [p.y, p.hy, p.cy, p.reserve, ...options.temps]) t?.dispose();
    throw err;
  } finally {
    for (const s of pinned) s.release();
  }
  // Disposed meanwhile (e.g. started inside tidy()): nothing to hand back or record.
  if (p.y.isDisposed || p.hy.isDisposed || (p.cy !== null && p.cy.isDisposed)) {
    for (const t of [p.y, p.hy, p.cy, p.reserve, ...options.temps]) t?.dispose();
    throw new CodedError('forwardAsync: the outputs were disposed before the forward finished (tidy() cannot wait for async work: keep or dispose them by hand)', 'ERR_CUDNN_RNN_DISPOSED');
  }
  settle(spec, p, x, state, flat, params, slots, gradNeeded, options.temps);
  return [p.y, p.hy, p.cy];
}

/**
 * For the GPU bench: mean ms of cudnnRNNForward alone (inference, CUDA
 * events, nothing allocated in the timed loop) on the module's weights, so
 * our per-call overhead over raw cuDNN can be shown. x and hx as forward's,
 * time-major and on the module's GPU.
 */
export function rawCudnnForwardMs(spec: RnnSpec, x: Tensor, state: RnnState, flat: Tensor, iters: number): number {
  const p = prepare(spec, x, state, flat, false, 0);
  try {
    return native.rnnTimeRawForward(...p.args, iters);
  } finally {
    p.y.dispose();
    p.hy.dispose();
    p.cy?.dispose();
  }
}
