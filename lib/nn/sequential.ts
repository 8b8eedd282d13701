// nn.Sequential: modules applied one after another, named '0', '1', ...
// like torch.nn.Sequential (so state-dict keys match: '0.weight', '1.bias').
import { describe, typeError } from '../errors';
import { isTensor, Tensor } from '../tensor';
import { Module } from './module';

interface Forwardable {
  forward(input: Tensor): unknown;
}

/**
 * Chains single-Tensor modules: forward(x) = m_n(...m_1(m_0(x))). Each child
 * receives exactly one Tensor and must return one Tensor. nn.RNN/nn.GRU
 * return [output, hN], so they cannot be chained directly: wrap them in a
 * module whose forward returns the Tensor the next module needs.
 */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.append(m, i));
  }

  /** Adds a module at the end (named by its position). Returns this. */
  append(module: Module, position = this.length): this {
    if (!(module instanceof Module)) throw typeError('Sequential', `modules[${position}]`, 'an nn.Module', module);
    this.registerModule(String(this.length), module);
    return this;
  }

  get length(): number {
    return this._modules.size;
  }

  /** The i-th module; negative i counts from the end, like indexing a torch Sequential. */
  get(index: number): Module {
    const n = this.length;
    if (typeof index !== 'number' || !Number.isInteger(index)) throw typeError('Sequential.get', 'index', 'an integer', index);
    if (index < -n || index >= n) throw new RangeError(`index ${index} is out of range (Sequential has ${n} modules)`);
    return this._modules.get(String(index < 0 ? index + n : index)) as Module;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this._modules.values();
  }

  forward(input: Tensor): Tensor {
    let x: unknown = input;
    for (const [name, m] of this._modules) {
      const f = (m as unknown as Partial<Forwardable>).forward;
      if (typeof f !== 'function') throw new TypeError(`Sequential: module (${name}) ${m.constructor.name} has no forward() method`);
      x = f.call(m, x as Tensor);
      if (!isTensor(x)) {
        throw new TypeError(
          `Sequential: module (${name}) ${m.constructor.name} returned ${describe(x)}, not a Tensor. Sequential passes a single Tensor from each module to the next; ` +
          'modules that return several values (nn.RNN and nn.GRU return [output, hN]) must be wrapped in a module whose forward returns one Tensor.');
      }
    }
    return x as Tensor;
  }
}
