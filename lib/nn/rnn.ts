// nn.RNN, nn.GRU and nn.LSTM: torch.nn.RNN/GRU/LSTM's arguments, parameters,
// initialisation, checks and messages; the computation is one backend call
// (ops/rnn.ts).
import { resolveDevice, getDefaultDevice } from '../backend';
import { noGrad } from '../autograd/grad-mode';
import { Device, deviceName } from '../device';
import { DType, FloatDType, isDType, torchDTypeName } from '../dtype';
import { CodedError, checkOptionKeys, describe, typeError } from '../errors';
import { keep } from '../memory';
import { outputSize, paramViews, rawCudnnForwardMs, rnnForward, rnnForwardAsync, rnnWeightLayout, RnnMode, RnnSpec, RnnState, ParamSlot } from '../ops/rnn';
import { contiguous, indexSelect, squeeze, transpose, unsqueeze } from '../ops/shape';
import { checkTensor, Tensor } from '../tensor';
import { checkPackedSequence, PackedSequence } from './utils/packed-sequence';
import { Module, moveParameter, pyFloat } from './module';
import { checkRnnSizes, rnnAllocationError } from './rnn-limits';

export interface RNNOptions {
  numLayers?: number;
  /** nn.RNN only. */
  nonlinearity?: 'tanh' | 'relu';
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  bidirectional?: boolean;
  device?: string;
  dtype?: FloatDType;
}

/** nn.GRU's options: nn.RNN's without nonlinearity. */
export type GRUOptions = Omit<RNNOptions, 'nonlinearity'>;

/**
 * PyTorch's parameter names for a recurrent layer: weight_ih_l0, bias_hh_l1,
 * weight_hh_l0_reverse, ... (what getParameter() accepts).
 */
export type RNNParameterName =
  | `${'weight' | 'bias'}_${'ih' | 'hh'}_l${number}`
  | `${'weight' | 'bias'}_${'ih' | 'hh'}_l${number}_reverse`
  | `weight_hr_l${number}`
  | `weight_hr_l${number}_reverse`;

export interface LSTMOptions extends GRUOptions {
  /** Units of the projection h = (o * tanh(c)) W_hr^T (PyTorch's proj_size); 0 = none. */
  projSize?: number;
}

const COMMON_KEYS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'device', 'dtype'];

function pyType(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (v === null) return 'NoneType';
  return typeof v;
}

function checkSize(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} should be of type int, got: ${pyType(value)} (${describe(value)})`);
  }
  if (value <= 0) throw new RangeError(`${name} must be greater than zero`);
  return value;
}

function checkFlag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} should be of type bool, got: ${pyType(value)} (${describe(value)})`);
  return value;
}

/** The fields spec() is made of: read-only at run time, not only in the types. */
const CONFIG_FIELDS = ['mode', 'inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'projSize', 'flatWeightsNames'];

/** Replaces a field by a getter whose setter throws, in sloppy-mode callers too (a silent no-op would hide the mistake). */
function makeReadOnly(target: object, key: string, where: string): void {
  const value: unknown = (target as Record<string, unknown>)[key];
  Object.defineProperty(target, key, {
    get: () => value,
    set: (v: unknown) => {
      throw new TypeError(`${where}: ${key} is read-only (the kernels run the configuration the module was built with), but got an assignment of ${describe(v)}; build a new module instead`);
    },
    enumerable: true,
    configurable: false,
  });
}

/** An option's default applies when it is absent; null is a value (and rejected), as None is in PyTorch. */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function checkDropout(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw new RangeError(`dropout should be a number in range [0, 1] representing the probability of an element being zeroed (got ${describe(value)})`);
  }
  return value;
}

/**
 * Shared by RNN, GRU and LSTM (PyTorch's RNNBase). `HState` is what forward
 * takes and returns as the hidden state: h for RNN/GRU, [h, c] for LSTM.
 */
export abstract class RNNBase<HState = Tensor> extends Module {
  readonly mode: RnnMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  /** LSTM's projection size; 0 (none) for RNN and GRU. */
  readonly projSize: number;
  /** Read at every forward, like PyTorch's self.dropout. */
  dropout: number;
  /** Parameter names in PyTorch's order (weight_ih_l0, ..., bias_hh_l1_reverse). */
  readonly flatWeightsNames: string[];
  /** @internal the flat weight buffer the parameters are views of. */
  private flat: Tensor;
  private slots: ParamSlot[];
  private dtypeValue: FloatDType;
  /** The parameters in layout order and the kernel spec, rebuilt only when they change (per-call cost matters for small nets). */
  private paramList: Tensor[] = [];
  private specCache: RnnSpec | null = null;

  // Every parameter is also a property, as in PyTorch (gru.weight_hh_l1_reverse);
  // the first layer's are declared here, getParameter() types the others.
  /** (gates*hiddenSize, inputSize): the first layer's input-hidden weights. */
  declare readonly weight_ih_l0: Tensor;
  /** (gates*hiddenSize, hiddenSize): the first layer's hidden-hidden weights. */
  declare readonly weight_hh_l0: Tensor;
  /** (gates*hiddenSize): undefined when the module was made with bias: false. */
  declare readonly bias_ih_l0: Tensor | undefined;
  /** (gates*hiddenSize): undefined when the module was made with bias: false. */
  declare readonly bias_hh_l0: Tensor | undefined;

  protected constructor(mode: RnnMode, where: string, inputSize: unknown, hiddenSize: unknown, third: unknown, fourth: unknown, extraKeys: string[]) {
    super();
    const options = RNNBase.collectOptions(where, third, fourth, extraKeys);
    this.mode = mode;
    const dropout = orDefault(options.dropout, 0);
    checkDropout(dropout);
    const numLayersArg = orDefault(options.numLayers, 1);
    if (dropout > 0 && numLayersArg === 1) {
      process.emitWarning(
        `dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=${pyFloat(dropout)} and num_layers=${numLayersArg}`,
        { type: 'UserWarning', code: 'CUDNN_RNN_DROPOUT_SINGLE_LAYER' });
    }
    this.bias = checkFlag('bias', orDefault(options.bias, true));
    this.batchFirst = checkFlag('batch_first', orDefault(options.batchFirst, false));
    this.inputSize = checkSize('input_size', inputSize);
    this.hiddenSize = checkSize('hidden_size', hiddenSize);
    if (typeof numLayersArg !== 'number' || !Number.isInteger(numLayersArg)) {
      throw new TypeError(`num_layers should be of type int, got: ${pyType(numLayersArg)} (${describe(numLayersArg)})`);
    }
    if (numLayersArg <= 0) throw new RangeError('num_layers must be greater than zero');
    this.numLayers = numLayersArg;
    this.projSize = RNNBase.checkProjSize(orDefault((options as LSTMOptions).projSize, 0), this.hiddenSize);
    this.bidirectional = checkFlag('bidirectional', orDefault(options.bidirectional, false));
    this.dropout = dropout;
    if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
      throw typeError(where, 'options.dtype', "'float32' or 'float64'", options.dtype);
    }
    this.dtypeValue = options.dtype ?? 'float32';
    const device = options.device === undefined ? getDefaultDevice() : resolveDevice(where, options.device);

    checkRnnSizes(where, this, this.dtypeValue, device);
    const { numel, slots } = rnnWeightLayout(this.spec(), device);
    this.slots = slots;
    this.flatWeightsNames = RNNBase.paramNames(this.numLayers, this.bidirectional, this.bias, this.projSize > 0);
    try {
      // Zero-filled on every device: cuDNN's padding between parameters stays 0 (PyTorch's at::zeros).
      this.flat = keep(Tensor.empty([numel], this.dtypeValue, device, true));
    } catch (err) {
      throw rnnAllocationError(where, this, err);
    }
    this.installParams();
    this.resetParameters();
    // The kernels run the config captured here (spec()): the fields that make
    // it can never change afterwards, or checks and kernel would disagree.
    Object.freeze(this.flatWeightsNames);
    for (const key of CONFIG_FIELDS) makeReadOnly(this, key, where);
  }

  private static checkProjSize(value: unknown, hiddenSize: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new TypeError(`proj_size should be of type int, got: ${pyType(value)} (${describe(value)})`);
    }
    if (value < 0) throw new RangeError('proj_size should be a positive integer or zero to disable projections');
    if (value >= hiddenSize) throw new RangeError('proj_size has to be smaller than hidden_size');
    return value;
  }

  private static collectOptions(where: string, third: unknown, fourth: unknown, extraKeys: string[]): LSTMOptions {
    let options: unknown = {};
    let numLayers: unknown;
    const proto: unknown = typeof third === 'object' && third !== null ? Object.getPrototypeOf(third) : undefined;
    // A plain object is options; anything else (a number, null, new Number(8)) is num_layers and checked as such.
    const isOptionsObject = proto === Object.prototype || proto === null;
    if (third !== undefined && !isOptionsObject) {
      numLayers = third;
      options = fourth === undefined ? {} : fourth;
    } else if (third !== undefined) {
      if (fourth !== undefined) throw typeError(where, 'the fourth argument', 'absent when the third is an options object', fourth);
      options = third;
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError(where, 'options', 'an object', options);
    if (!extraKeys.includes('projSize') && ('projSize' in options || 'proj_size' in options)) {
      throw new RangeError('proj_size argument is only supported for LSTM, not RNN or GRU');
    }
    checkOptionKeys(where, options, [...COMMON_KEYS, ...extraKeys]);
    const o = { ...(options as LSTMOptions) };
    if (numLayers !== undefined) {
      if ((options as RNNOptions).numLayers !== undefined) throw new TypeError(`${where}: numLayers given both as an argument and in options`);
      o.numLayers = numLayers as number;
    }
    return o;
  }

  private static paramNames(numLayers: number, bidirectional: boolean, bias: boolean, projection: boolean): string[] {
    const names: string[] = [];
    for (let l = 0; l < numLayers; ++l) {
      for (let d = 0; d < (bidirectional ? 2 : 1); ++d) {
        const s = `l${l}${d === 1 ? '_reverse' : ''}`;
        names.push(`weight_ih_${s}`, `weight_hh_${s}`);
        if (bias) names.push(`bias_ih_${s}`, `bias_hh_${s}`);
        if (projection) names.push(`weight_hr_${s}`);
      }
    }
    return names;
  }

  /**
   * A parameter by PyTorch's name (gru.getParameter('weight_ih_l1')); throws
   * when this module has no such parameter (another layer count, no bias,
   * not bidirectional).
   */
  override getParameter(name: RNNParameterName): Tensor {
    return super.getParameter(name);
  }

  /** @internal */
  spec(): RnnSpec {
    if (this.specCache === null || this.specCache.dtype !== this.dtypeValue) {
      this.specCache = Object.freeze({
        mode: this.mode, dtype: this.dtypeValue, inputSize: this.inputSize, hiddenSize: this.hiddenSize,
        numLayers: this.numLayers, bidirectional: this.bidirectional, bias: this.bias, projSize: this.projSize,
      });
    }
    return this.specCache;
  }

  get dtype(): FloatDType {
    return this.dtypeValue;
  }

  get device(): string {
    return this.flat.device;
  }

  private installParams(): void {
    const views = paramViews(this.flat, this.slots);
    views.forEach((v, i) => this.registerParameter(this.flatWeightsNames[i], v));
    this.paramList = views;
  }

  /** PyTorch's reset_parameters: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)) in order. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    noGrad(() => {
      for (const p of this.parameters()) p.uniform_(-stdv, stdv);
    });
  }

  protected override applyConversion(spec: { dtype?: DType; device?: string }): void {
    let dtype = this.dtypeValue;
    if (spec.dtype !== undefined) {
      if (!isDType(spec.dtype) || spec.dtype === 'int32') throw typeError('to', 'dtype', "'float32' or 'float64'", spec.dtype);
      dtype = spec.dtype;
    }
    const device: Device = spec.device === undefined ? this.flat.deviceObj : resolveDevice('to', spec.device);
    if (dtype === this.dtypeValue && deviceName(device) === this.flat.device) return;
    // Each backend has its own weight layout (cuDNN's weight space on a GPU),
    // so parameters are copied one by one into a fresh flat buffer: PyTorch's
    // flatten_parameters. Gradients move with them, as in PyTorch.
    const { numel, slots } = rnnWeightLayout({ ...this.spec(), dtype }, device);
    const next = keep(Tensor.empty([numel], dtype, device, true));
    const target = { dtype, device: deviceName(device) };
    const params = this.paramList;
    const views = paramViews(next, slots);
    try {
      noGrad(() => views.forEach((v, i) => {
        const moved = params[i].to(target);
        v.copy_(moved);
        if (moved !== params[i]) moved.dispose();
      }));
    } catch (err) {
      views.forEach((v) => v.dispose());
      next.dispose();
      throw err;
    }
    // The parameter objects stay (an optimizer holds them); their data moves.
    views.forEach((v, i) => moveParameter(params[i], v));
    this.flat.dispose();
    this.flat = next;
    this.dtypeValue = dtype;
    this.slots = slots;
  }

  /** @internal For the GPU bench: cudnnRNNForward alone on this module's weights (ops/rnn.ts). */
  rawCudnnForwardMs(x: Tensor, hx: Tensor | null, iters: number, cx: Tensor | null = null): number {
    return rawCudnnForwardMs(this.spec(), x, { hx, cx }, this.flat, iters);
  }

  override dispose(): void {
    super.dispose();
    this.flat.dispose();
  }

  protected override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional) s += ', bidirectional=True';
    return s;
  }

  /** The initial state as given: h0 (and the LSTM's c0), each null when absent. */
  private readState(hx: unknown): { h0: Tensor | null; c0: Tensor | null } {
    const where = `${this.typeName}.forward`;
    if (hx === undefined || hx === null) return { h0: null, c0: null };
    if (this.mode !== 'LSTM') return { h0: checkTensor(where, 'hx', hx), c0: null };
    if (!Array.isArray(hx)) throw typeError(where, 'hx', 'an array [h_0, c_0] of two tensors', hx);
    if (hx.length !== 2) throw new RangeError(`lstm expects two hidden states (hx = [h_0, c_0]), got ${hx.length}`);
    return { h0: checkTensor(where, 'hx[0]', hx[0]), c0: checkTensor(where, 'hx[1]', hx[1]) };
  }

  /** Validates and brings input/hx to the kernel's layout, as PyTorch's forward does. */
  private prepareInputs(input: unknown, hx: unknown): { x: Tensor; state: RnnState; unbatched: boolean; temps: Tensor[] } {
    const where = this.typeName;
    const lstm = this.mode === 'LSTM';
    if (this.flat.isDisposed) throw new CodedError(`${where}.forward: the module was disposed`, 'ERR_CUDNN_RNN_DISPOSED');
    const x0 = checkTensor(`${where}.forward`, 'input', input);
    if (x0.ndim !== 2 && x0.ndim !== 3) {
      const noun = this.mode === 'GRU' || lstm ? '' : ' tensor';
      throw new RangeError(`${where}: Expected input to be 2D or 3D, got ${x0.ndim}D${noun} instead`);
    }
    const { h0, c0 } = this.readState(hx);
    const unbatched = x0.ndim === 2;
    const rank = unbatched ? 2 : 3;
    const kind = unbatched ? 'unbatched 2-D' : 'batched 3-D';
    if (lstm && h0 !== null && c0 !== null) {
      if (h0.ndim !== rank || c0.ndim !== rank) {
        throw new RangeError(`For ${kind} input, hx and cx should also be ${rank}-D but got (${h0.ndim}-D, ${c0.ndim}-D) tensors`);
      }
    } else if (h0 !== null && h0.ndim !== rank) {
      throw new RangeError(`For ${kind} input, hx should also be ${rank}-D but got ${h0.ndim}-D tensor`);
    }
    if (x0.dtype !== this.dtypeValue) {
      throw new TypeError(`RNN input dtype (${torchDTypeName(x0.dtype)}) does not match weight dtype (${torchDTypeName(this.dtypeValue)}). Convert input: input.to(${torchDTypeName(this.dtypeValue)}), or convert model: model.to(${torchDTypeName(x0.dtype)})`);
    }
    if (x0.device !== this.flat.device) {
      throw new CodedError(`Input and parameter tensors are not at the same device, found input tensor at ${x0.device} and parameter tensor at ${this.flat.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
    }
    const temps: Tensor[] = [];
    const track = (t: Tensor, from: Tensor): Tensor => {
      if (t !== from) temps.push(t);
      return t;
    };
    const fail = (err: Error): never => {
      temps.forEach((t) => t.dispose());
      throw err;
    };
    let x = x0;
    if (unbatched) x = track(unsqueeze(x, this.batchFirst ? 0 : 1), x);
    if (x.shape[2] !== this.inputSize) fail(new RangeError(`input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${x.shape[2]}`));
    const batch = this.batchFirst ? x.shape[0] : x.shape[1];
    const layersDirs = this.numLayers * (this.bidirectional ? 2 : 1);
    // One state tensor: to (layers*dirs, N, units), checked like PyTorch's check_hidden_size.
    const prepareState = (t: Tensor | null, name: string, units: number, label: string): Tensor | null => {
      if (t === null) return null;
      const s = unbatched ? track(unsqueeze(t, 1), t) : t;
      const expected = [layersDirs, batch, units];
      if (s.shape.some((n, i) => n !== expected[i])) fail(new RangeError(`Expected ${label} size (${expected.join(', ')}), got [${s.shape.join(', ')}]`));
      if (s.dtype !== this.dtypeValue) fail(new TypeError(`${name} dtype (${torchDTypeName(s.dtype)}) does not match weight dtype (${torchDTypeName(this.dtypeValue)})`));
      if (s.device !== this.flat.device) {
        fail(new CodedError(`Input and hidden tensors are not at the same device, found input tensor at ${x0.device} and hidden tensor at ${s.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH'));
      }
      return track(contiguous(s), s);
    };
    const h = prepareState(h0, 'hx', outputSize(this.spec()), lstm ? 'hidden[0]' : 'hidden');
    const c = lstm ? prepareState(c0, 'cx', this.hiddenSize, 'hidden[1]') : null;
    const seqLen = this.batchFirst ? x.shape[1] : x.shape[0];
    if (seqLen === 0) fail(new RangeError('Expected sequence length to be larger than 0 in RNN'));
    if (this.batchFirst) x = track(transpose(x, 0, 1), x);
    x = track(contiguous(x), x);
    checkDropout(this.dropout);
    return { x, state: { hx: h, cx: c }, unbatched, temps };
  }

  private finishOutputs(y: Tensor, hy: Tensor, cy: Tensor | null, unbatched: boolean): [Tensor, HState] {
    // Each step is a view; the replaced tensor objects are disposed (their
    // storage lives on in the views, and the graph keeps what it needs).
    const replace = (from: Tensor, to: Tensor): Tensor => {
      if (to !== from) from.dispose();
      return to;
    };
    let out = y;
    let hn = hy;
    let cn = cy;
    if (this.batchFirst) out = replace(out, transpose(out, 0, 1));
    if (unbatched) {
      out = replace(out, squeeze(out, this.batchFirst ? 0 : 1));
      hn = replace(hn, squeeze(hn, 1));
      if (cn !== null) cn = replace(cn, squeeze(cn, 1));
    }
    return [out, (cn === null ? hn : [hn, cn]) as unknown as HState];
  }

  /**
   * A PackedSequence's input brought to the kernel's layout: data (sum, H_in)
   * contiguous, the batch sizes, and hx permuted to the sorted order as torch
   * does (hx.index_select(1, sorted_indices)).
   */
  private preparePacked(input: PackedSequence, hx: unknown): { x: Tensor; state: RnnState; sizes: number[]; temps: Tensor[] } {
    const where = this.typeName;
    const lstm = this.mode === 'LSTM';
    if (this.flat.isDisposed) throw new CodedError(`${where}.forward: the module was disposed`, 'ERR_CUDNN_RNN_DISPOSED');
    const packed = checkPackedSequence(`${where}.forward`, 'input', input);
    const data = packed.data;
    if (data.ndim !== 2) throw new RangeError(`${where}: input must have 2 dimensions, got ${data.ndim}`);
    if (data.shape[1] !== this.inputSize) throw new RangeError(`input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${data.shape[1]}`);
    if (data.dtype !== this.dtypeValue) {
      throw new TypeError(`RNN input dtype (${torchDTypeName(data.dtype)}) does not match weight dtype (${torchDTypeName(this.dtypeValue)}). Convert input: input.to(${torchDTypeName(this.dtypeValue)}), or convert model: model.to(${torchDTypeName(data.dtype)})`);
    }
    if (data.device !== this.flat.device) {
      throw new CodedError(`Input and parameter tensors are not at the same device, found input tensor at ${data.device} and parameter tensor at ${this.flat.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
    }
    const sizes = Array.from(packed.batchSizes.dataSync());
    const batch = sizes[0];
    const { h0, c0 } = this.readState(hx);
    const temps: Tensor[] = [];
    const fail = (err: Error): never => {
      temps.forEach((t) => t.dispose());
      throw err;
    };
    const layersDirs = this.numLayers * (this.bidirectional ? 2 : 1);
    const prepareState = (t: Tensor | null, name: string, units: number, label: string): Tensor | null => {
      if (t === null) return null;
      const expected = [layersDirs, batch, units];
      if (t.ndim !== 3 || t.shape.some((n, i) => n !== expected[i])) fail(new RangeError(`Expected ${label} size (${expected.join(', ')}), got [${t.shape.join(', ')}]`));
      if (t.dtype !== this.dtypeValue) fail(new TypeError(`${name} dtype (${torchDTypeName(t.dtype)}) does not match weight dtype (${torchDTypeName(this.dtypeValue)})`));
      if (t.device !== this.flat.device) {
        fail(new CodedError(`Input and hidden tensors are not at the same device, found input tensor at ${data.device} and hidden tensor at ${t.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH'));
      }
      // The caller's batch order to the packed (sorted) one.
      const sorted = packed.sortedIndices === null ? t : indexSelect(t, 1, packed.sortedIndices);
      if (sorted !== t) temps.push(sorted);
      const c = contiguous(sorted);
      if (c !== sorted) temps.push(c);
      return c;
    };
    const h = prepareState(h0, 'hx', outputSize(this.spec()), lstm ? 'hidden[0]' : 'hidden');
    const c = lstm ? prepareState(c0, 'cx', this.hiddenSize, 'hidden[1]') : null;
    checkDropout(this.dropout);
    const x = contiguous(data);
    if (x !== data) temps.push(x);
    return { x, state: { hx: h, cx: c }, sizes, temps };
  }

  /** The packed output and hN/cN back in the caller's batch order (unsortedIndices). */
  private finishPacked(input: PackedSequence, y: Tensor, hy: Tensor, cy: Tensor | null): [PackedSequence, HState] {
    const unsort = (t: Tensor): Tensor => {
      if (input.unsortedIndices === null) return t;
      const u = indexSelect(t, 1, input.unsortedIndices);
      t.dispose();
      return u;
    };
    const hn = unsort(hy);
    const cn = cy === null ? null : unsort(cy);
    const out = new PackedSequence(y, input.batchSizes, input.sortedIndices, input.unsortedIndices);
    return [out, (cn === null ? hn : [hn, cn]) as unknown as HState];
  }

  /**
   * Runs the network over a sequence. input: (L, N, H_in), or (N, L, H_in)
   * with batchFirst, or unbatched (L, H_in). RNN/GRU: hx (D*numLayers, N, H)
   * or (D*numLayers, H), zeros when omitted; returns [output, hN]. LSTM: hx
   * is [h0, c0] and it returns [output, [hN, cN]] (see nn.LSTM).
   *
   * A PackedSequence input gives a PackedSequence output (same batch sizes
   * and indices) in one native call where step t computes only its
   * batchSizes[t] running sequences; hx is in the caller's batch order and
   * hN holds each sequence's state at its own last step (the reverse
   * direction starts from each sequence's own end), as in torch.
   */
  forward(input: PackedSequence, hx?: HState | null): [PackedSequence, HState];
  forward(input: Tensor, hx?: HState | null): [Tensor, HState];
  forward(input: Tensor | PackedSequence, hx?: HState | null): [Tensor | PackedSequence, HState] {
    if (input instanceof PackedSequence) {
      const { x, state, sizes, temps } = this.preparePacked(input, hx);
      const [y, hy, cy] = rnnForward(this.spec(), x, state, this.flat, this.paramList, this.slots, { training: this.training, dropout: this.dropout, temps, batchSizes: sizes });
      return this.finishPacked(input, y, hy, cy);
    }
    const { x, state, unbatched, temps } = this.prepareInputs(input, hx);
    const [y, hy, cy] = rnnForward(this.spec(), x, state, this.flat, this.paramList, this.slots, { training: this.training, dropout: this.dropout, temps });
    return this.finishOutputs(y, hy, cy, unbatched);
  }

  /** forward() on a worker thread: the event loop keeps serving while it runs. */
  async forwardAsync(input: PackedSequence, hx?: HState | null): Promise<[PackedSequence, HState]>;
  async forwardAsync(input: Tensor, hx?: HState | null): Promise<[Tensor, HState]>;
  async forwardAsync(input: Tensor | PackedSequence, hx?: HState | null): Promise<[Tensor | PackedSequence, HState]> {
    if (input instanceof PackedSequence) {
      const { x, state, sizes, temps } = this.preparePacked(input, hx);
      const [y, hy, cy] = await rnnForwardAsync(this.spec(), x, state, this.flat, this.paramList, this.slots, { training: this.training, dropout: this.dropout, temps, batchSizes: sizes });
      return this.finishPacked(input, y, hy, cy);
    }
    const { x, state, unbatched, temps } = this.prepareInputs(input, hx);
    const [y, hy, cy] = await rnnForwardAsync(this.spec(), x, state, this.flat, this.paramList, this.slots, { training: this.training, dropout: this.dropout, temps });
    return this.finishOutputs(y, hy, cy, unbatched);
  }
}

export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, numLayers?: number, options?: RNNOptions);
  constructor(inputSize: number, hiddenSize: number, options?: RNNOptions);
  constructor(inputSize: number, hiddenSize: number, third?: number | RNNOptions, fourth?: RNNOptions) {
    const opts = (typeof third === 'object' && third !== null ? third : fourth) as RNNOptions | undefined;
    const nonlinearity = opts?.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
      throw new RangeError(`Unknown nonlinearity '${String(nonlinearity)}'. Select from 'tanh' or 'relu'.`);
    }
    super(nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', 'RNN', inputSize, hiddenSize, third, fourth, ['nonlinearity']);
    this.nonlinearity = nonlinearity;
    makeReadOnly(this, 'nonlinearity', 'RNN');
  }

  protected override get typeName(): string {
    return 'RNN';
  }
}

/** torch.nn.GRU (gates r|z|n, n = tanh(W_in x + b_in + r*(W_hn h + b_hn))). */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, numLayers?: number, options?: GRUOptions);
  constructor(inputSize: number, hiddenSize: number, options?: GRUOptions);
  constructor(inputSize: number, hiddenSize: number, third?: number | GRUOptions, fourth?: GRUOptions) {
    const opts = (typeof third === 'object' && third !== null ? third : fourth) as Record<string, unknown> | undefined;
    if (typeof opts === 'object' && opts !== null && 'nonlinearity' in opts) {
      throw new TypeError("GRU: unknown option \"nonlinearity\" (only nn.RNN has a nonlinearity)");
    }
    super('GRU', 'GRU', inputSize, hiddenSize, third, fourth, []);
  }

  protected override get typeName(): string {
    return 'GRU';
  }
}

/**
 * torch.nn.LSTM (gates i|f|g|o; c' = f*c + i*g, h' = o*tanh(c'), then
 * h' = h' W_hr^T when projSize > 0). forward(input, [h0, c0]?) returns
 * [output, [hN, cN]]; h is (D*numLayers, N, projSize || hiddenSize), c is
 * (D*numLayers, N, hiddenSize).
 */
export class LSTM extends RNNBase<[Tensor, Tensor]> {
  constructor(inputSize: number, hiddenSize: number, numLayers?: number, options?: LSTMOptions);
  constructor(inputSize: number, hiddenSize: number, options?: LSTMOptions);
  constructor(inputSize: number, hiddenSize: number, third?: number | LSTMOptions, fourth?: LSTMOptions) {
    const opts = (typeof third === 'object' && third !== null ? third : fourth) as Record<string, unknown> | undefined;
    if (typeof opts === 'object' && opts !== null && 'nonlinearity' in opts) {
      throw new TypeError("LSTM: unknown option \"nonlinearity\" (only nn.RNN has a nonlinearity)");
    }
    super('LSTM', 'LSTM', inputSize, hiddenSize, third, fourth, ['projSize']);
  }

  protected override get typeName(): string {
    return 'LSTM';
  }
}
