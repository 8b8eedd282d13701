// torch.optim.SGD: PyTorch's single-tensor (for-loop) update, step for step.
import { keep } from '../memory';
import { Tensor } from '../tensor';
import { Optimizer, OptimizerSpec, ParamGroup, ParamsInput, ParamState } from './optimizer';

export interface SGDOptions {
  /** Required (PyTorch 1.13 has no default). */
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

const SPEC: OptimizerSpec<SGDOptions> = {
  name: 'SGD',
  kinds: { lr: 'number', momentum: 'number', dampening: 'number', weightDecay: 'number', nesterov: 'boolean', maximize: 'boolean' },
  stateKeys: ['momentum_buffer'],
  check(o) {
    // `!(x >= 0)` also rejects NaN, as PyTorch's `not 0.0 <= x` does.
    if (o.lr !== undefined && !(o.lr >= 0)) throw new RangeError(`SGD: Invalid learning rate: ${o.lr}`);
    if (o.momentum !== undefined && !(o.momentum >= 0)) throw new RangeError(`SGD: Invalid momentum value: ${o.momentum}`);
    if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new RangeError(`SGD: Invalid weight_decay value: ${o.weightDecay}`);
    if (o.nesterov && (!((o.momentum ?? 0) > 0) || o.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  },
};

const DEFAULTS: Partial<SGDOptions> = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, options, DEFAULTS, SPEC);
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let dp = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) dp = dp.add(param, { alpha: weightDecay });
    // PyTorch records momentum_buffer (None when momentum is 0) for every parameter stepped.
    let buf = state.momentum_buffer instanceof Tensor ? state.momentum_buffer : null;
    if (momentum !== 0) {
      if (buf === null) {
        // The first buffer is a copy of the (decayed) gradient, not momentum * 0 + (1 - dampening) * g.
        buf = keep(dp.clone());
      } else {
        buf.mul_(momentum).add_(dp, { alpha: 1 - dampening });
      }
      dp = nesterov ? dp.add(buf, { alpha: momentum }) : buf;
    }
    state.momentum_buffer = buf;
    param.add_(dp, { alpha: -lr });
  }
}
