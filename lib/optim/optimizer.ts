// torch.optim.Optimizer: parameter groups with per-group hyperparameters,
// per-parameter state, zeroGrad, and state dicts that map 1:1 to PyTorch's
// optimizer.state_dict() (parameter indices, snake_case keys).
import { enableGrad, noGrad } from '../autograd/grad-mode';
import { CodedError, checkOptionKeys, describe, formatShape, typeError } from '../errors';
import { keep, tidy } from '../memory';
import { Tensor } from '../tensor';

/** Every optimizer has a learning rate; schedulers rely on it. */
export interface LrOptions {
  lr: number;
}

/** How an option is type-checked. 'betas' is a pair of numbers. */
export type OptionKind = 'number' | 'boolean' | 'betas';

/** A parameter group: its tensors plus every hyperparameter (defaults filled in). */
export type ParamGroup<O> = O & {
  params: Tensor[];
  /** Set by the first LR scheduler attached (PyTorch's 'initial_lr'). */
  initialLr?: number;
};

/** What a user may pass for one group: any subset of the options. */
export type ParamGroupInput<O> = Partial<O> & { params: Iterable<Tensor> | Tensor; initialLr?: number };

/** The first constructor argument: parameters, or PyTorch-style group objects. */
export type ParamsInput<O> = Iterable<Tensor> | Array<ParamGroupInput<O>>;

export type StateValue = Tensor | number | null;
/** Per-parameter state with PyTorch's keys (step, exp_avg, momentum_buffer, ...). */
export type ParamState = Record<string, StateValue>;

/** PyTorch's optimizer.state_dict() layout; group keys are snake_case (weight_decay, initial_lr). */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Array<{ params: number[]; [key: string]: unknown }>;
}

/** What each concrete optimizer tells the base class. */
export interface OptimizerSpec<O> {
  /** Class name, prefixed to error messages. */
  readonly name: string;
  /** Every option key and its kind; also the set of known keys. */
  readonly kinds: Readonly<Record<keyof O & string, OptionKind>>;
  /** Keys allowed in a parameter's state (rejects, say, Adam state loaded into SGD). */
  readonly stateKeys: readonly string[];
  /** Range checks with PyTorch's messages; skips options that are undefined. */
  check(options: Partial<O>): void;
}

/**
 * Keys PyTorch writes into param_groups that select an implementation rather
 * than change the maths; a state dict from torch may carry them. The predicate
 * says which values we can honour (and so silently drop).
 */
const TORCH_IMPLEMENTATION_KEYS: Record<string, (v: unknown) => boolean> = {
  foreach: () => true,
  fused: () => true,
  capturable: () => true,
  differentiable: (v) => v === false || v === null,
  decoupled_weight_decay: (v) => v === false || v === null,
};

const snakeCase = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camelCase = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tensor);
}

export abstract class Optimizer<O extends LrOptions = LrOptions> {
  /** The constructor's options merged over the class defaults (lr may be missing for SGD). */
  readonly defaults: Readonly<Partial<O>>;
  paramGroups: Array<ParamGroup<O>> = [];
  /** Per-parameter state, created lazily by step(). Tensors here belong to the optimizer. */
  readonly state = new Map<Tensor, ParamState>();
  private readonly spec: OptimizerSpec<O>;

  protected constructor(params: ParamsInput<O>, options: unknown, classDefaults: Partial<O>, spec: OptimizerSpec<O>) {
    this.spec = spec;
    const where = spec.name;
    if (options === undefined) options = {};
    if (!isPlainObject(options)) throw typeError(where, 'options', 'an object', options);
    checkOptionKeys(where, options, Object.keys(spec.kinds));
    const given: Partial<O> = {};
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) (given as Record<string, unknown>)[key] = this.checkKind(`options.${key}`, key, value);
    }
    const defaults = { ...classDefaults, ...given };
    spec.check(defaults);
    this.defaults = Object.freeze(defaults);

    if (params instanceof Tensor) {
      throw new TypeError(`${where}: params argument given to the optimizer should be an iterable of Tensors or dicts, but got a Tensor`);
    }
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw typeError(where, 'params', 'an array of Tensors or of parameter groups', params);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new RangeError(`${where}: optimizer got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    groups.forEach((g) => this.addParamGroup(g as ParamGroupInput<O>));
  }

  /** Adds a group (PyTorch's add_param_group), e.g. to unfreeze layers while training. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const where = this.spec.name;
    if (!isPlainObject(group)) throw typeError(where, 'param group', 'an object with a params key', group);
    const { params, ...rest } = group as Record<string, unknown>;
    if (params instanceof Set) {
      throw new TypeError(`${where}: optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.`);
    }
    const list = params instanceof Tensor ? [params] : params;
    if (list === null || typeof list !== 'object' || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw typeError(where, 'param group params', 'a Tensor or an array of Tensors', params);
    }
    const tensors = [...(list as Iterable<unknown>)];
    for (const p of tensors) {
      if (!(p instanceof Tensor)) throw new TypeError(`${where}: optimizer can only optimize Tensors, but one of the params is ${describe(p)}`);
      p._assertAlive(where, 'a parameter');
      if (!(p.isLeaf || p.retainsGrad)) throw new RangeError(`${where}: can't optimize a non-leaf Tensor`);
    }
    // PyTorch only warns; a duplicate would be updated twice per step, which is never intended.
    if (new Set(tensors).size !== tensors.length) throw new RangeError(`${where}: optimizer contains a parameter group with duplicate parameters`);
    for (const g of this.paramGroups) {
      if (g.params.some((p) => tensors.includes(p as Tensor))) throw new RangeError(`${where}: some parameters appear in more than one parameter group`);
    }
    const merged = this.resolveGroup(rest, 'param group');
    this.paramGroups.push({ ...merged, params: tensors as Tensor[] });
  }

  /** Clears gradients: frees them (default, PyTorch 2.x) or zeroes them in place. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    if (!isPlainObject(options)) throw typeError(`${this.spec.name}.zeroGrad`, 'options', 'an object', options);
    checkOptionKeys(`${this.spec.name}.zeroGrad`, options, ['setToNone']);
    const setToNone = options.setToNone ?? true;
    if (typeof setToNone !== 'boolean') throw typeError(`${this.spec.name}.zeroGrad`, 'options.setToNone', 'a boolean', setToNone);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad.dispose();
          p.grad = null;
        } else {
          const g = p.grad;
          noGrad(() => g.zero_());
        }
      }
    }
  }

  /**
   * One update of every parameter that has a gradient. `closure`, if given,
   * re-evaluates the loss (with grad recording on) and its result is returned.
   */
  step<L = undefined>(closure?: () => L): L | undefined {
    let loss: L | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') throw typeError(`${this.spec.name}.step`, 'closure', 'a function', closure);
      loss = enableGrad(closure);
    }
    // Every parameter is checked before any is updated, so a bad one leaves the model untouched.
    const where = `${this.spec.name}.step`;
    this.paramGroups.forEach((group, gi) => group.params.forEach((p, pi) => {
      const arg = `paramGroups[${gi}].params[${pi}]`;
      // A disposed parameter would silently stop training: refuse it.
      if (p.isDisposed) {
        throw new CodedError(`${where}: ${arg} is a disposed tensor (it was freed by dispose() or tidy(); Module.to() keeps parameters alive)`, 'ERR_CUDNN_RNN_DISPOSED');
      }
      const grad = p.grad;
      if (grad === null) return;
      grad._assertAlive(where, `${arg}.grad`);
      if (grad.dtype !== p.dtype || grad.device !== p.device || grad.shape.length !== p.shape.length || grad.shape.some((n, k) => n !== p.shape[k])) {
        throw new RangeError(`${where}: expected ${arg}.grad to match its parameter (${p.dtype} ${formatShape(p.shape)} on ${p.device}), but got ${grad.dtype} ${formatShape(grad.shape)} on ${grad.device}`);
      }
    }));
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const grad = p.grad;
          if (grad === null) continue;
          let state = this.state.get(p);
          if (state === undefined) {
            state = {};
            this.state.set(p, state);
          }
          const s = state;
          followParameter(s, p);
          // One scope per parameter bounds the temporaries alive at once. Update
          // rules keep() the state tensors they create; this loop is a safety net
          // so neither this scope nor a caller's tidy can free optimizer state.
          tidy(() => {
            this.updateParameter(p, grad, s, group);
            for (const v of Object.values(s)) if (v instanceof Tensor) keep(v);
          });
        }
      }
    });
    return loss;
  }

  /** The update rule for one parameter; runs under noGrad inside a tidy scope. */
  protected abstract updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<O>): void;

  /**
   * PyTorch's state_dict(): parameters are replaced by their index in group
   * order. Like PyTorch (and Module.stateDict), state tensors are the live
   * ones, not copies: clone them to keep a snapshot while training continues.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: { params: number[]; [key: string]: unknown } = { params: [] };
      for (const [key, value] of Object.entries(group)) {
        if (key === 'params' || value === undefined) continue;
        packed[snakeCase(key)] = Array.isArray(value) ? value.slice() : value;
      }
      packed.params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      });
      return packed;
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores state from stateDict() (ours or PyTorch's, tensors converted).
   * Everything is validated before anything changes; tensors are copied, cast
   * to each parameter's dtype, and the previous state tensors are freed.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const where = `${this.spec.name}.loadStateDict`;
    if (!isPlainObject(stateDict)) throw typeError(where, 'stateDict', 'an object with state and param_groups', stateDict);
    const savedGroups = stateDict.param_groups;
    const savedState = stateDict.state;
    if (!Array.isArray(savedGroups)) throw typeError(where, 'stateDict.param_groups', 'an array', savedGroups);
    if (!isPlainObject(savedState)) throw typeError(where, 'stateDict.state', 'an object keyed by parameter index', savedState);
    if (savedGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${where}: loaded state dict has a different number of parameter groups`);
    }
    const idMap = new Map<string, Tensor>();
    const newGroups = savedGroups.map((saved, gi) => {
      if (!isPlainObject(saved) || !Array.isArray(saved.params)) throw typeError(where, `stateDict.param_groups[${gi}]`, 'an object with a params array', saved);
      const current = this.paramGroups[gi];
      if (saved.params.length !== current.params.length) {
        throw new RangeError(`${where}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group`);
      }
      saved.params.forEach((id, k) => idMap.set(String(id), current.params[k]));
      const options: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(saved)) {
        if (key === 'params') continue;
        const accept = TORCH_IMPLEMENTATION_KEYS[key];
        if (accept !== undefined) {
          if (!accept(value)) throw new RangeError(`${where}: param_groups[${gi}].${key} = ${describe(value)} is not supported`);
          continue;
        }
        options[camelCase(key)] = value;
      }
      return { ...this.resolveGroup(options, `stateDict.param_groups[${gi}]`), params: current.params };
    });

    const pending: Array<[Tensor, Record<string, unknown>]> = [];
    for (const [id, entry] of Object.entries(savedState)) {
      const param = idMap.get(id);
      if (param === undefined) throw new RangeError(`${where}: stateDict.state has an entry for parameter ${id}, which no param group lists`);
      if (!isPlainObject(entry)) throw typeError(where, `stateDict.state[${id}]`, 'an object', entry);
      for (const [key, value] of Object.entries(entry)) this.checkStateValue(where, `stateDict.state[${id}].${key}`, key, value, param);
      pending.push([param, entry]);
    }

    const fresh = new Map<Tensor, ParamState>();
    noGrad(() => {
      for (const [param, entry] of pending) {
        const s: ParamState = {};
        for (const [key, value] of Object.entries(entry)) {
          if (value instanceof Tensor) {
            s[key] = key === 'step' ? value.item() : keep(ownedCopy(value, param));
          } else {
            s[key] = value as number | null;
          }
        }
        fresh.set(param, s);
      }
    });
    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s);
    this.paramGroups = newGroups;
  }

  /** Frees the optimizer's state tensors (not the parameters). step() starts afresh. */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  private checkStateValue(where: string, arg: string, key: string, value: unknown, param: Tensor): void {
    if (!this.spec.stateKeys.includes(key)) {
      throw new RangeError(`${where}: unexpected state key ${JSON.stringify(key)} for ${this.spec.name}; expected ${this.spec.stateKeys.join(', ')}`);
    }
    if (key === 'step') {
      const ok = (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (value instanceof Tensor && value.numel === 1);
      if (!ok) throw typeError(where, arg, 'a non-negative integer or a one-element Tensor', value);
      if (value instanceof Tensor) value._assertAlive(where, arg);
      return;
    }
    if (value === null) return;
    if (!(value instanceof Tensor)) throw typeError(where, arg, 'a Tensor or null', value);
    value._assertAlive(where, arg);
    if (value.shape.length !== param.shape.length || value.shape.some((s, i) => s !== param.shape[i])) {
      throw new RangeError(`${where}: ${arg} has shape ${formatShape(value.shape)} but its parameter has shape ${formatShape(param.shape)}`);
    }
  }

  /** Merges a group's options over the defaults, type- and range-checking them. */
  private resolveGroup(options: Record<string, unknown>, what: string): O & { initialLr?: number } {
    const where = this.spec.name;
    checkOptionKeys(`${where}: ${what}`, options, [...Object.keys(this.spec.kinds), 'initialLr']);
    const out: Record<string, unknown> = {};
    // Arrays (betas) are copied so groups never share one mutable pair.
    for (const [key, value] of Object.entries(this.defaults)) out[key] = Array.isArray(value) ? value.slice() : value;
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined) continue;
      out[key] = key === 'initialLr' ? this.checkKind(`${what}.initialLr`, key, value, 'number') : this.checkKind(`${what}.${key}`, key, value);
    }
    for (const key of Object.keys(this.spec.kinds)) {
      if (out[key] === undefined) {
        throw new TypeError(`${where}: parameter group didn't specify a value of required optimization parameter ${snakeCase(key)}`);
      }
    }
    this.spec.check(out as Partial<O>);
    return out as O & { initialLr?: number };
  }

  private checkKind(arg: string, key: string, value: unknown, kind?: OptionKind): unknown {
    const where = this.spec.name;
    const k = kind ?? (this.spec.kinds as Record<string, OptionKind>)[key];
    if (k === 'number' && typeof value !== 'number') throw typeError(where, arg, 'a number', value);
    if (k === 'boolean' && typeof value !== 'boolean') throw typeError(where, arg, 'a boolean', value);
    if (k === 'betas') {
      if (!Array.isArray(value) || value.length !== 2 || value.some((b) => typeof b !== 'number')) {
        throw typeError(where, arg, 'a pair of numbers [beta1, beta2]', value);
      }
      return [value[0], value[1]];
    }
    return value;
  }
}

/**
 * State tensors follow their parameter's dtype and device: after Module.to()
 * the parameter object is the same but its data moved, and the state (Adam's
 * moments, momentum buffers) moves with it on the next step.
 */
function followParameter(state: ParamState, param: Tensor): void {
  for (const [key, value] of Object.entries(state)) {
    if (!(value instanceof Tensor) || (value.dtype === param.dtype && value.device === param.device)) continue;
    state[key] = keep(value.to({ dtype: param.dtype, device: param.device }));
    value.dispose();
  }
}

/** A private copy of a loaded state tensor in the parameter's dtype and device. */
function ownedCopy(value: Tensor, param: Tensor): Tensor {
  const converted = value.to({ dtype: param.dtype, device: param.device });
  return converted === value ? value.clone() : converted;
}
