// torch.optim.Adam: PyTorch's single-tensor (for-loop) update, step for step.
// AdamW (adamw.ts) shares the update; only the weight decay differs.
import { zerosLike } from '../creation';
import { keep } from '../memory';
import { maximum } from '../ops';
import { Tensor } from '../tensor';
import { Optimizer, OptimizerSpec, ParamGroup, ParamsInput, ParamState } from './optimizer';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** Adam's and AdamW's checks, with PyTorch's messages prefixed by the class name. */
export function adamSpec(name: string): OptimizerSpec<AdamOptions> {
  return {
    name,
    kinds: { lr: 'number', betas: 'betas', eps: 'number', weightDecay: 'number', amsgrad: 'boolean', maximize: 'boolean' },
    stateKeys: ['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'],
    check(o) {
      // `!(0 <= x)` rather than `x < 0` so NaN is rejected, as in PyTorch.
      if (o.lr !== undefined && !(o.lr >= 0)) throw new RangeError(`${name}: Invalid learning rate: ${o.lr}`);
      if (o.eps !== undefined && !(o.eps >= 0)) throw new RangeError(`${name}: Invalid epsilon value: ${o.eps}`);
      if (o.betas !== undefined) {
        o.betas.forEach((b, i) => {
          if (!(b >= 0 && b < 1)) throw new RangeError(`${name}: Invalid beta parameter at index ${i}: ${b}`);
        });
      }
      if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) throw new RangeError(`${name}: Invalid weight_decay value: ${o.weightDecay}`);
    },
  };
}

function stateTensor(state: ParamState, key: string, param: Tensor): Tensor {
  const v = state[key];
  if (v instanceof Tensor) return v;
  // Kept at once: if the rest of the update throws, the state must not be left holding a freed tensor.
  const t = keep(zerosLike(param));
  state[key] = t;
  return t;
}

/**
 * One Adam/AdamW update of `param`, PyTorch's _single_tensor_adam(w) without
 * capturable/differentiable. `decoupled` selects AdamW's p *= 1 - lr * wd
 * instead of adding wd * p to the gradient.
 */
export function adamUpdate(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamOptions>, decoupled: boolean): void {
  const { lr, betas: [beta1, beta2], eps, weightDecay, amsgrad, maximize } = group;
  // Keys are created one by one (PyTorch creates them all when the state is empty);
  // this also lets amsgrad be switched on for a group that already has state.
  const expAvg = stateTensor(state, 'exp_avg', param);
  const expAvgSq = stateTensor(state, 'exp_avg_sq', param);
  const maxExpAvgSq = amsgrad ? stateTensor(state, 'max_exp_avg_sq', param) : null;
  const step = (typeof state.step === 'number' ? state.step : 0) + 1;
  state.step = step;

  let g = maximize ? grad.neg() : grad;
  if (decoupled) {
    param.mul_(1 - lr * weightDecay);
  } else if (weightDecay !== 0) {
    g = g.add(param, { alpha: weightDecay });
  }
  expAvg.mul_(beta1).add_(g, { alpha: 1 - beta1 });
  expAvgSq.mul_(beta2).add_(g.mul(g), { alpha: 1 - beta2 });

  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  const stepSize = lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);

  let second = expAvgSq;
  if (maxExpAvgSq !== null) {
    maxExpAvgSq.copy_(maximum(maxExpAvgSq, expAvgSq));
    second = maxExpAvgSq;
  }
  // denom = (v.sqrt() / sqrt(bc2)).add_(eps); p.addcdiv_(m, denom, value=-step_size)
  const denom = second.sqrt().div_(biasCorrection2Sqrt).add_(eps);
  param.add_(expAvg.div(denom), { alpha: -stepSize });
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, adamSpec('Adam'));
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamOptions>): void {
    adamUpdate(param, grad, state, group, false);
  }
}
