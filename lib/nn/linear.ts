// nn.Linear: torch.nn.Linear's arguments, parameters, initialisation (bit for
// bit under manualSeed) and repr; the maths is functional.linear.
import { noGrad } from '../autograd/grad-mode';
import { getDefaultDevice, resolveDevice } from '../backend';
import { FloatDType } from '../dtype';
import { checkBoolean, checkInteger, checkOptionKeys, typeError } from '../errors';
import { Tensor } from '../tensor';
import { linear } from './functional';
import { Module } from './module';

export interface LinearOptions {
  /** Adds a learnable bias (default true). */
  bias?: boolean;
  device?: string;
  dtype?: FloatDType;
}

/** y = x W^T + b, for input (..., inFeatures) -> (..., outFeatures). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** (outFeatures, inFeatures) */
  declare readonly weight: Tensor;
  /** (outFeatures), or null with { bias: false } */
  declare readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = checkInteger('Linear', 'inFeatures', inFeatures, 0);
    this.outFeatures = checkInteger('Linear', 'outFeatures', outFeatures, 0);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError('Linear', 'options', 'an object', options);
    checkOptionKeys('Linear', options, ['bias', 'device', 'dtype']);
    const hasBias = checkBoolean('Linear', 'options.bias', options.bias ?? true);
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw typeError('Linear', 'options.dtype', "'float32' or 'float64'", dtype);
    const device = options.device === undefined ? getDefaultDevice() : resolveDevice('Linear', options.device);
    // Registration order is PyTorch's: weight, then bias (state-dict order).
    this.registerParameter('weight', Tensor.empty([this.outFeatures, this.inFeatures], dtype, device));
    this.registerParameter('bias', hasBias ? Tensor.empty([this.outFeatures], dtype, device) : null);
    this.resetParameters();
  }

  /**
   * PyTorch's reset_parameters: kaiming_uniform_(weight, a=sqrt(5)), then
   * bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). The bound is computed in the
   * same double arithmetic as torch.nn.init (it is 1/sqrt(fan_in) give or take
   * the last bit, and that bit shows in float64 weights).
   */
  resetParameters(): void {
    const fanIn = this.inFeatures;
    noGrad(() => {
      // torch.nn.init skips zero-element tensors (with a warning) and draws nothing.
      if (this.weight.numel > 0) {
        const a = Math.sqrt(5);
        const gain = Math.sqrt(2.0 / (1 + a ** 2));
        const std = gain / Math.sqrt(fanIn);
        const bound = Math.sqrt(3.0) * std;
        this.weight.uniform_(-bound, bound);
      }
      if (this.bias !== null) {
        const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        this.bias.uniform_(-bound, bound);
      }
    });
  }

  get dtype(): FloatDType {
    return this.weight.dtype as FloatDType;
  }

  get device(): string {
    return this.weight.device;
  }

  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}
