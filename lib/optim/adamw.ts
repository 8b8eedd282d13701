// torch.optim.AdamW: Adam with decoupled weight decay (p *= 1 - lr * wd before
// the moment updates), default weightDecay 1e-2, as in PyTorch.
import { Tensor } from '../tensor';
import { AdamOptions, adamSpec, adamUpdate } from './adam';
import { Optimizer, ParamGroup, ParamsInput, ParamState } from './optimizer';

export type AdamWOptions = AdamOptions;

export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: ParamsInput<AdamWOptions>, options: Partial<AdamWOptions> = {}) {
    super(params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, adamSpec('AdamW'));
  }

  protected override updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<AdamWOptions>): void {
    adamUpdate(param, grad, state, group, true);
  }
}
