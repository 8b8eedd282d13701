// nn.Dropout: functional.dropout with the module's training flag.
import { describe } from '../errors';
import { Tensor } from '../tensor';
import { dropout } from './functional';
import { Module, pyFloat } from './module';

/** Zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity after eval(). */
export class Dropout extends Module {
  /** Read at every forward, like PyTorch's self.p. */
  p: number;

  constructor(p = 0.5) {
    super();
    if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
      throw new RangeError(`dropout probability has to be between 0 and 1, but got ${typeof p === 'number' ? p : describe(p)}`);
    }
    this.p = p;
  }

  forward(input: Tensor): Tensor {
    return dropout(input, this.p, this.training);
  }

  protected override extraRepr(): string {
    // There is no in-place variant; the field is printed as PyTorch does.
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
