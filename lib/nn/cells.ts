// nn.RNNCell, nn.GRUCell and nn.LSTMCell: torch.nn's arguments, parameters,
// initialisation (bit for bit under manualSeed), checks and messages; each
// step is one fused native call forward and one backward (ops/cell.ts).
import { noGrad } from '../autograd/grad-mode';
import { getDefaultDevice, resolveDevice } from '../backend';
import { FloatDType, torchDTypeName } from '../dtype';
import { CodedError, checkBoolean, checkInteger, checkOptionKeys, typeError } from '../errors';
import { cellStep, CellMode, CellWeights } from '../ops/cell';
import { contiguous, squeeze, unsqueeze } from '../ops/shape';
import { checkTensor, Tensor } from '../tensor';
import { Module } from './module';

export interface CellOptions {
  /** Adds the learnable biases bias_ih and bias_hh (default true). */
  bias?: boolean;
  device?: string;
  dtype?: FloatDType;
}

export interface RNNCellOptions extends CellOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

const GATES: Record<CellMode, number> = { RNN_TANH: 1, RNN_RELU: 1, GRU: 3, LSTM: 4 };

/** A step's tensors after the checks: batched (N, ·) and contiguous, with the temporaries made for that. */
interface Prepared {
  x: Tensor;
  states: Array<Tensor | null>;
  unbatched: boolean;
  temps: Tensor[];
}

/** PyTorch's RNNCellBase: the parameters, their initialisation, and the forward's checks. */
export abstract class RNNCellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** Whether the cell has bias_ih and bias_hh (PyTorch's `bias` attribute). */
  readonly bias: boolean;
  /** (G * hiddenSize, inputSize), gate blocks in PyTorch's order. */
  declare readonly weight_ih: Tensor;
  /** (G * hiddenSize, hiddenSize) */
  declare readonly weight_hh: Tensor;
  /** (G * hiddenSize), or null with { bias: false } */
  declare readonly bias_ih: Tensor | null;
  declare readonly bias_hh: Tensor | null;

  protected constructor(where: string, gates: number, inputSize: unknown, hiddenSize: unknown, options: unknown, extraKeys: string[]) {
    super();
    // PyTorch's cells check nothing here (hidden_size 0 is legal); sizes must still be sizes.
    this.inputSize = checkInteger(where, 'inputSize', inputSize, 0);
    this.hiddenSize = checkInteger(where, 'hiddenSize', hiddenSize, 0);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError(where, 'options', 'an object', options);
    checkOptionKeys(where, options, ['bias', 'device', 'dtype', ...extraKeys]);
    const o = options as CellOptions;
    this.bias = checkBoolean(where, 'options.bias', o.bias ?? true);
    const dtype = o.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw typeError(where, 'options.dtype', "'float32' or 'float64'", dtype);
    const device = o.device === undefined ? getDefaultDevice() : resolveDevice(where, o.device);
    const rows = gates * this.hiddenSize;
    // Registration order is PyTorch's (the state-dict order and the order of the init draws).
    this.registerParameter('weight_ih', Tensor.empty([rows, this.inputSize], dtype, device));
    this.registerParameter('weight_hh', Tensor.empty([rows, this.hiddenSize], dtype, device));
    this.registerParameter('bias_ih', this.bias ? Tensor.empty([rows], dtype, device) : null);
    this.registerParameter('bias_hh', this.bias ? Tensor.empty([rows], dtype, device) : null);
    this.resetParameters();
  }

  /** The op's mode for this forward (RNNCell reads its nonlinearity here). */
  protected abstract cellMode(): CellMode;

  /** PyTorch's reset_parameters: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), in order. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    noGrad(() => {
      // An empty parameter draws nothing (as in PyTorch).
      for (const p of this.parameters()) if (p.numel > 0) p.uniform_(-stdv, stdv);
    });
  }

  get dtype(): FloatDType {
    return this.weight_ih.dtype as FloatDType;
  }

  get device(): string {
    return this.weight_ih.device;
  }

  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? '' : ', bias=False'}`;
  }

  /**
   * PyTorch's checks on input and the hidden states, then the batched,
   * contiguous layout the kernel takes. stateNames name the states in our
   * messages ('hx', or 'hx[0]', 'hx[1]'), dimNames in PyTorch's dimension
   * message ('hidden' for RNNCell/GRUCell, 'hx[0]', 'hx[1]' for LSTMCell).
   */
  private prepare(input: unknown, states: Array<Tensor | null>, stateNames: string[], dimNames: string[]): Prepared {
    const where = this.typeName;
    if (this.weight_ih.isDisposed) throw new CodedError(`${where}.forward: the module was disposed`, 'ERR_CUDNN_RNN_DISPOSED');
    const x0 = checkTensor(`${where}.forward`, 'input', input);
    if (x0.ndim !== 1 && x0.ndim !== 2) throw new RangeError(`${where}: Expected input to be 1D or 2D, got ${x0.ndim}D instead`);
    states.forEach((h, i) => {
      if (h !== null && h.ndim !== 1 && h.ndim !== 2) throw new RangeError(`${where}: Expected ${dimNames[i]} to be 1D or 2D, got ${h.ndim}D instead`);
    });
    const unbatched = x0.ndim === 1;
    const weightDtype = this.dtype;
    const weightDevice = this.device;
    states.forEach((h, i) => {
      if (h === null) return;
      if (h.ndim !== x0.ndim) {
        throw new RangeError(`${where}: For ${unbatched ? 'unbatched 1-D' : 'batched 2-D'} input, ${stateNames[i]} should also be ${x0.ndim}-D but got ${h.ndim}-D tensor`);
      }
    });
    if (x0.dtype !== weightDtype) {
      throw new TypeError(`${where}: input dtype (${torchDTypeName(x0.dtype)}) does not match weight dtype (${torchDTypeName(weightDtype)}). Convert input: input.to(${torchDTypeName(weightDtype)}), or convert model: model.to(${torchDTypeName(x0.dtype)})`);
    }
    if (x0.device !== weightDevice) {
      throw new CodedError(`Input and parameter tensors are not at the same device, found input tensor at ${x0.device} and parameter tensor at ${weightDevice}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
    }
    states.forEach((h, i) => {
      if (h === null) return;
      if (h.dtype !== weightDtype) throw new TypeError(`${where}: ${stateNames[i]} dtype (${torchDTypeName(h.dtype)}) does not match weight dtype (${torchDTypeName(weightDtype)})`);
      if (h.device !== weightDevice) {
        throw new CodedError(`Input and hidden tensors are not at the same device, found input tensor at ${x0.device} and hidden tensor at ${h.device}`, 'ERR_CUDNN_RNN_DEVICE_MISMATCH');
      }
    });
    // PyTorch's ATen checks (check_rnn_cell_forward_input / _hidden), in its order.
    const inputSize = x0.shape[x0.ndim - 1];
    if (inputSize !== this.inputSize) throw new RangeError(`input has inconsistent input_size: got ${inputSize} expected ${this.inputSize}`);
    const batch = unbatched ? 1 : x0.shape[0];
    states.forEach((h, i) => {
      if (h === null) return;
      if (!unbatched && h.shape[0] !== batch) throw new RangeError(`Input batch size ${batch} doesn't match hidden${i} batch size ${h.shape[0]}`);
      const size = h.shape[h.ndim - 1];
      if (size !== this.hiddenSize) throw new RangeError(`hidden${i} has inconsistent hidden_size: got ${size}, expected ${this.hiddenSize}`);
    });

    const temps: Tensor[] = [];
    const track = (t: Tensor, from: Tensor): Tensor => {
      if (t !== from) temps.push(t);
      return t;
    };
    const batched = (t: Tensor): Tensor => {
      const u = unbatched ? track(unsqueeze(t, 0), t) : t;
      return track(contiguous(u), u);
    };
    return { x: batched(x0), states: states.map((h) => (h === null ? null : batched(h))), unbatched, temps };
  }

  /** The parameters as the kernel takes them (contiguous; they always are unless replaced by hand). */
  private weights(temps: Tensor[]): CellWeights {
    const dense = (t: Tensor | null): Tensor | null => {
      if (t === null || t.isContiguous) return t;
      const c = contiguous(t);
      temps.push(c);
      return c;
    };
    return { weightIh: dense(this.weight_ih) as Tensor, weightHh: dense(this.weight_hh) as Tensor, biasIh: dense(this.bias_ih), biasHh: dense(this.bias_hh) };
  }

  /** Checks the arguments, runs one step and brings the outputs back to the input's layout. */
  protected step(input: unknown, states: Array<Tensor | null>, stateNames: string[], dimNames: string[]): [Tensor, Tensor | null] {
    const spec = { mode: this.cellMode(), dtype: this.dtype, inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias };
    const p = this.prepare(input, states, stateNames, dimNames);
    const w = this.weights(p.temps);
    const [hy, cy] = cellStep(spec, p.x, p.states[0] ?? null, p.states[1] ?? null, w, p.temps);
    if (!p.unbatched) return [hy, cy];
    // The squeezed views keep the storage alive; the batched tensor objects are not needed.
    const squeezeOut = (t: Tensor): Tensor => {
      const s = squeeze(t, 0);
      t.dispose();
      return s;
    };
    return [squeezeOut(hy), cy === null ? null : squeezeOut(cy)];
  }
}

/** torch.nn.RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). */
export class RNNCell extends RNNCellBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    const nonlinearity = typeof options === 'object' && options !== null ? (options.nonlinearity ?? 'tanh') : 'tanh';
    // PyTorch finds out only in forward(); a constructor knows already.
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new RangeError(`Unknown nonlinearity: ${String(nonlinearity)}`);
    super('RNNCell', GATES.RNN_TANH, inputSize, hiddenSize, options, ['nonlinearity']);
    this.nonlinearity = nonlinearity;
  }

  protected cellMode(): CellMode {
    // Checked again: plain JS can assign the field.
    if (this.nonlinearity === 'tanh') return 'RNN_TANH';
    if (this.nonlinearity === 'relu') return 'RNN_RELU';
    throw new RangeError(`Unknown nonlinearity: ${String(this.nonlinearity)}`);
  }

  /** input (N, inputSize) or unbatched (inputSize); hx (N, hiddenSize) or (hiddenSize), zeros when omitted. Returns h'. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const h = hx === undefined || hx === null ? null : checkTensor('RNNCell.forward', 'hx', hx);
    return this.step(input, [h], ['hx'], ['hidden'])[0];
  }

  protected override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity !== 'tanh' ? `, nonlinearity=${this.nonlinearity}` : '');
  }
}

/** torch.nn.GRUCell (gates r|z|n, n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super('GRUCell', GATES.GRU, inputSize, hiddenSize, options, []);
  }

  protected cellMode(): CellMode {
    return 'GRU';
  }

  /** input (N, inputSize) or unbatched (inputSize); hx (N, hiddenSize) or (hiddenSize), zeros when omitted. Returns h'. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const h = hx === undefined || hx === null ? null : checkTensor('GRUCell.forward', 'hx', hx);
    return this.step(input, [h], ['hx'], ['hidden'])[0];
  }
}

/** torch.nn.LSTMCell (gates i|f|g|o; c' = f c + i g, h' = o tanh(c')). */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super('LSTMCell', GATES.LSTM, inputSize, hiddenSize, options, []);
  }

  protected cellMode(): CellMode {
    return 'LSTM';
  }

  /**
   * input (N, inputSize) or unbatched (inputSize); hx the pair [h, c], each
   * (N, hiddenSize) or (hiddenSize), zeros when omitted. Returns [h', c'].
   */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    let states: Array<Tensor | null> = [null, null];
    if (hx !== undefined && hx !== null) {
      if (hx instanceof Tensor) throw new TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor");
      if (!Array.isArray(hx)) throw typeError('LSTMCell.forward', 'hx', 'a pair [h_0, c_0] of Tensors', hx);
      if (hx.length !== 2) throw new RangeError('lstm_cell expects two hidden states');
      states = hx.map((t, i) => checkTensor('LSTMCell.forward', `hx[${i}]`, t));
    }
    const [h, c] = this.step(input, states, ['hx[0]', 'hx[1]'], ['hx[0]', 'hx[1]']);
    return [h, c as Tensor];
  }
}
