// torch.nn.utils.clip_grad_norm_ / clip_grad_value_: rescale or clamp the
// gradients of parameters in place. The norm stays a tensor (no read-back)
// so clipping never waits on the device, as in PyTorch.
import { noGrad } from '../autograd/grad-mode';
import { fullLike, tensor } from '../creation';
import { CodedError, checkBoolean, checkOptionKeys, typeError } from '../errors';
import { tidy } from '../memory';
import { abs, amax, clamp, div, ne, neg, pow, sqrt, stack, sum } from '../ops';
import { Tensor } from '../tensor';

export type ParametersInput = Tensor | Iterable<Tensor>;

/** The gradients of `parameters` that exist (a single Tensor counts as a list of one). */
function gradsOf(where: string, parameters: ParametersInput): Tensor[] {
  if (parameters instanceof Tensor) parameters = [parameters];
  if (parameters === null || typeof parameters !== 'object' || typeof (parameters as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw typeError(where, 'parameters', 'a Tensor or an iterable of Tensors', parameters);
  }
  const grads: Tensor[] = [];
  let i = 0;
  for (const p of parameters as Iterable<unknown>) {
    if (!(p instanceof Tensor)) throw typeError(where, `parameters[${i}]`, 'a Tensor', p);
    p._assertAlive(where, `parameters[${i}]`);
    if (p.grad !== null) grads.push(p.grad);
    i += 1;
  }
  return grads;
}

/** torch.norm(x, p) of all elements, for p = inf, -inf, 0 or any other number. */
function vectorNorm(x: Tensor, p: number): Tensor {
  if (p === Infinity) return amax(abs(x));
  if (p === -Infinity) return neg(amax(neg(abs(x))));
  if (p === 0) return sum(ne(x, 0));
  if (p === 1) return sum(abs(x));
  if (p === 2) return sqrt(sum(x.mul(x)));
  return pow(sum(pow(abs(x), p)), 1 / p);
}

/**
 * Scales all gradients so that their joint `normType`-norm (as if concatenated)
 * is at most `maxNorm`; returns that total norm (before clipping) as a 0-d Tensor.
 * The factor is maxNorm / (total + 1e-6), clamped to 1.
 */
export function clipGradNorm_(
  parameters: ParametersInput, maxNorm: number, normType = 2, options: { errorIfNonfinite?: boolean } = {},
): Tensor {
  const where = 'clipGradNorm_';
  const grads = gradsOf(where, parameters);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw typeError(where, 'maxNorm', 'a number', maxNorm);
  if (typeof normType !== 'number' || Number.isNaN(normType)) throw typeError(where, 'normType', "a number (Infinity for the max norm)", normType);
  if (typeof options !== 'object' || options === null) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, ['errorIfNonfinite']);
  const errorIfNonfinite = checkBoolean(where, 'options.errorIfNonfinite', options.errorIfNonfinite ?? false);
  if (grads.length === 0) return tensor(0);
  return noGrad(() => tidy(() => {
    const norms = grads.map((g) => vectorNorm(g, normType));
    // PyTorch takes a single max norm as is, but otherwise always re-norms the stacked norms.
    const total = normType === Infinity && norms.length === 1 ? norms[0] : vectorNorm(stack(norms), normType);
    if (errorIfNonfinite && !Number.isFinite(total.item())) {
      throw new CodedError(`${where}: The total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite=false\``, 'ERR_CUDNN_RNN_NONFINITE_NORM');
    }
    // Multiplying by a clamped coefficient (even when it is 1) avoids reading the norm back.
    const coef = clamp(div(fullLike(total, maxNorm), total.add(1e-6)), null, 1);
    for (const g of grads) g.mul_(coef);
    return total;
  }));
}

/** Clamps every gradient element to [-clipValue, clipValue] in place. */
export function clipGradValue_(parameters: ParametersInput, clipValue: number): void {
  const where = 'clipGradValue_';
  const grads = gradsOf(where, parameters);
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw typeError(where, 'clipValue', 'a number', clipValue);
  noGrad(() => {
    for (const g of grads) tidy(() => g.copy_(clamp(g, -clipValue, clipValue)));
  });
}
