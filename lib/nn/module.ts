// nn.Module: parameters and submodules in registration order, PyTorch's
// state-dict names, train/eval, device/dtype moves.
import { noGrad } from '../autograd/grad-mode';
import { DType, isDType } from '../dtype';
import { CodedError, checkBoolean, checkOptionKeys, describe, formatShape, typeError } from '../errors';
import { keep } from '../memory';
import { checkTensor, Tensor } from '../tensor';

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export abstract class Module {
  /** True in training mode (dropout active), false after eval(). */
  training = true;
  /** @internal */ protected readonly _parameters = new Map<string, Tensor | null>();
  /** @internal */ protected readonly _modules = new Map<string, Module>();

  /** The class name PyTorch prints (GRU, Linear, ...). */
  protected get typeName(): string {
    return this.constructor.name;
  }

  /** Registers a parameter (kept out of tidy scopes; requires grad). null registers an absent one. */
  protected registerParameter(name: string, value: Tensor | null): void {
    if (value !== null) {
      keep(value);
      if (!value.requiresGrad && value.isLeaf) value.requiresGrad = true;
    }
    const existed = this._parameters.has(name);
    this._parameters.set(name, value);
    if (!existed) {
      Object.defineProperty(this, name, { get: () => this._parameters.get(name) ?? null, enumerable: true, configurable: true });
    }
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this._modules.set(name, module);
    return module;
  }

  *namedParametersIter(prefix = ''): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [name, p] of this.namedMembers(prefix)) {
      if (seen.has(p)) continue;
      seen.add(p);
      yield [name, p];
    }
  }

  private *namedMembers(prefix: string): Generator<[string, Tensor]> {
    for (const [name, p] of this._parameters) if (p !== null) yield [prefix + name, p];
    for (const [name, m] of this._modules) yield* m.namedMembers(`${prefix}${name}.`);
  }

  /** [name, parameter] pairs in PyTorch's order (own, then each child's). */
  namedParameters(): Array<[string, Tensor]> {
    return [...this.namedParametersIter()];
  }

  /**
   * The parameter at a dotted path ('weight', '0.bias'), like torch's
   * get_parameter; a RangeError when there is none.
   */
  getParameter(target: string): Tensor {
    if (typeof target !== 'string') throw typeError('getParameter', 'target', 'a string', target);
    const parts = target.split('.');
    const name = parts.pop() as string;
    let owner: Module = this;
    for (const part of parts) {
      const child = owner._modules.get(part);
      if (child === undefined) throw new RangeError(`${owner.typeName} has no attribute \`${part}\``);
      owner = child;
    }
    const p = owner._parameters.get(name);
    if (p === undefined || p === null) {
      const names = [...owner._parameters.entries()].filter(([, v]) => v !== null).map(([k]) => k);
      throw new RangeError(`${owner.typeName} has no parameter \`${name}\` (its parameters: ${names.join(', ') || 'none'})`);
    }
    return p;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  children(): Module[] {
    return [...this._modules.values()];
  }

  namedChildren(): Array<[string, Module]> {
    return [...this._modules.entries()];
  }

  /** This module and every descendant, depth first. */
  modules(): Module[] {
    return [this, ...this.children().flatMap((m) => m.modules())];
  }

  /** The parameters keyed by PyTorch's names. The tensors are the live parameters (no copies). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedMembers('')) out[name] = p;
    return out;
  }

  /** Copies values into the parameters, checking names and shapes like PyTorch. */
  loadStateDict(dict: Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw typeError('loadStateDict', 'stateDict', 'an object mapping names to Tensors', dict);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError('loadStateDict', 'options', 'an object', options);
    checkOptionKeys('loadStateDict', options, ['strict']);
    const strict = options.strict ?? true;
    checkBoolean('loadStateDict', 'options.strict', strict);
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !(k in own));
    // PyTorch's order: missing, then unexpected (strict only), then size mismatches (always).
    const errors: string[] = [];
    if (strict) {
      if (missingKeys.length > 0) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}. `);
      if (unexpectedKeys.length > 0) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}. `);
    }
    for (const [name, target] of Object.entries(own)) {
      if (!(name in dict)) continue;
      const src = checkTensor('loadStateDict', `stateDict["${name}"]`, dict[name]);
      if (src.shape.length !== target.shape.length || src.shape.some((s, i) => s !== target.shape[i])) {
        errors.push(`size mismatch for ${name}: copying a param with shape torch.Size(${formatShape(src.shape)}) from checkpoint, the shape in current model is torch.Size(${formatShape(target.shape)}).`);
      }
    }
    if (errors.length > 0) {
      throw new CodedError(`Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join('\n\t')}`, 'ERR_CUDNN_RNN_STATE_DICT');
    }
    noGrad(() => {
      for (const [name, target] of Object.entries(own)) {
        if (name in dict) target.copy_(dict[name]);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    checkBoolean('train', 'mode', mode);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets every gradient to null (PyTorch's zero_grad(set_to_none=True)) or to zeros. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (setToNone) {
        p.grad.dispose();
        p.grad = null;
      } else {
        noGrad(() => p.grad?.zero_());
      }
    }
  }

  /**
   * Moves/casts every parameter in place and returns this. As in PyTorch the
   * parameter objects survive (their data changes), so an optimizer built
   * before to() keeps updating them; gradients move with them.
   */
  to(target: DType | string | { dtype?: DType; device?: string }): this {
    const spec = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw typeError('to', 'target', 'a dtype, a device or { dtype, device }', target);
    if (spec.dtype !== undefined && (!isDType(spec.dtype) || spec.dtype === 'int32')) {
      throw new TypeError(`to: nn.Module.to only accepts floating point dtypes ('float32', 'float64'), but got desired dtype=${describe(spec.dtype)}`);
    }
    for (const m of this.modules()) m.applyConversion(spec);
    return this;
  }

  /**
   * Converts this module's own parameters in place (see to()). Modules with
   * a flat weight buffer (RNN) override this to rebuild it.
   * @internal
   */
  protected applyConversion(spec: { dtype?: DType; device?: string }): void {
    for (const p of this._parameters.values()) {
      if (p === null) continue;
      const converted = noGrad(() => {
        const view = p.detach();
        const c = view.to(spec as { dtype?: DType });
        if (c !== view) view.dispose();
        return c;
      });
      if (converted.dtype === p.dtype && converted.device === p.device) {
        converted.dispose();
        continue;
      }
      moveParameter(p, converted);
    }
  }

  /** Frees every parameter (and gradient). The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const m of this.children()) m.dispose();
  }

  /** PyTorch's repr: `Name(extra)` or a block listing the children. */
  toString(): string {
    const extra = this.extraRepr();
    const children = this.namedChildren();
    if (children.length === 0) return `${this.typeName}(${extra})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.typeName}(${extra ? `${extra}\n` : '\n'}${lines.join('\n')}\n)`;
  }

  protected extraRepr(): string {
    return '';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Points parameter `p` at `converted`'s memory (which it then disposes) and
 * moves its gradient to the same dtype and device: the parameter object, and
 * so every optimizer's reference to it, stays the same.
 * @internal
 */
export function moveParameter(p: Tensor, converted: Tensor): void {
  const oldGrad = p.grad;
  const grad = oldGrad === null ? null : keep(noGrad(() => oldGrad.to({ dtype: converted.dtype, device: converted.device })));
  p.grad = null;
  p._rebind(converted._storage, converted.strides, converted.offset, converted.dtype);
  converted.dispose();
  p.grad = grad;
  if (oldGrad !== null && oldGrad !== grad) oldGrad.dispose();
}

/** How Python prints a float: shortest round-trip, with '.0' on integers. */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  // JS writes 1e-7, Python 1e-07.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
