// Reverse-mode differentiation over the recorded graph. Gradients flowing
// between nodes are engine temporaries, reference-counted and disposed as soon
// as they are consumed; leaf gradients accumulate in place like PyTorch's.
import { CodedError } from '../errors';
import { keep } from '../memory';
import type { Tensor } from '../tensor';
import { noGrad } from './grad-mode';
import type { Node } from './node';

/** Hooks the engine needs from the tensor ops, injected to avoid import cycles. */
export interface EngineOps {
  cast(g: Tensor, dtype: Tensor['dtype']): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  accumulateInto(target: Tensor, g: Tensor): void;
  detachedCopy(g: Tensor): Tensor;
  onesLike(t: Tensor): Tensor;
  sumToShape(g: Tensor, shape: readonly number[]): Tensor;
}

let ops: EngineOps | null = null;
export function registerEngineOps(o: EngineOps): void {
  ops = o;
}

class TempRefs {
  private refs = new Map<Tensor, number>();
  private external: Set<Tensor>;
  constructor(external: Tensor[]) {
    this.external = new Set(external);
  }
  hold(t: Tensor): void {
    if (this.external.has(t)) return;
    this.refs.set(t, (this.refs.get(t) ?? 0) + 1);
  }
  drop(t: Tensor): void {
    if (this.external.has(t)) return;
    const n = (this.refs.get(t) ?? 0) - 1;
    if (n <= 0) {
      this.refs.delete(t);
      t.dispose();
    } else {
      this.refs.set(t, n);
    }
  }
}

/** Nodes reachable from `root`, with how many edges point at each. */
function countDependencies(root: Node): Map<Node, number> {
  const deps = new Map<Node, number>([[root, 0]]);
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (const input of node.inputs) {
      const next = input?.gradFn;
      if (!next) continue;
      const seen = deps.has(next);
      deps.set(next, (deps.get(next) ?? 0) + 1);
      if (!seen) stack.push(next);
    }
  }
  return deps;
}

// Listeners told, after each successful backward pass, which leaves received
// a gradient in it: how DistributedDataParallel averages gradients across
// processes once backward() returns, with no call in the training loop.
export type BackwardListener = (leaves: ReadonlySet<Tensor>) => void;
const listeners = new Set<BackwardListener>();
let touched: Set<Tensor> | null = null;

/** Calls `listener` after every backward pass; returns the function that removes it. */
export function addBackwardListener(listener: BackwardListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  touched?.add(t);
  const o = ops as EngineOps;
  const summed = g.shape.length === t.shape.length && g.shape.every((s, i) => s === t.shape[i]) ? g : o.sumToShape(g, t.shape);
  // A leaf's gradient has the leaf's dtype even when ops promoted (PyTorch).
  const shaped = summed.dtype === t.dtype ? summed : o.cast(summed, t.dtype);
  if (shaped !== summed && summed !== g) summed.dispose();
  if (t.grad === null) {
    t.grad = keep(shaped === g ? o.detachedCopy(shaped) : shaped);
  } else {
    o.accumulateInto(t.grad, shaped);
    if (shaped !== g) shaped.dispose();
  }
}

export function runBackward(root: Tensor, gradient: Tensor | undefined, retainGraph: boolean): void {
  if (listeners.size === 0) {
    runBackwardPass(root, gradient, retainGraph);
    return;
  }
  const outer = touched;
  const mine = new Set<Tensor>();
  touched = mine;
  try {
    runBackwardPass(root, gradient, retainGraph);
  } finally {
    touched = outer;
  }
  for (const listener of [...listeners]) listener(mine);
}

function runBackwardPass(root: Tensor, gradient: Tensor | undefined, retainGraph: boolean): void {
  if (ops === null) throw new Error('cudnn-rnn: autograd engine used before ops were registered');
  const o = ops;
  noGrad(() => {
    const seed = gradient ?? o.onesLike(root);
    const refs = new TempRefs(gradient ? [gradient] : []);
    if (root.gradFn === null) {
      accumulateLeaf(root, seed);
      if (!gradient) seed.dispose();
      return;
    }
    const deps = countDependencies(root.gradFn);
    const buffers = new Map<Node, Array<Tensor | null>>();
    const put = (node: Node, index: number, g: Tensor): void => {
      let slots = buffers.get(node);
      if (slots === undefined) {
        slots = new Array<Tensor | null>(node.numOutputs).fill(null);
        buffers.set(node, slots);
      }
      const prev = slots[index];
      if (prev === null) {
        refs.hold(g);
        slots[index] = g;
      } else {
        const sum = o.add(prev, g);
        refs.hold(sum);
        refs.drop(prev);
        slots[index] = sum;
      }
    };
    refs.hold(seed);
    put(root.gradFn, root.outputIndex, seed);
    refs.drop(seed);

    const ready: Node[] = [root.gradFn];
    let inFlight: Array<Tensor | null> = [];
    try {
      while (ready.length > 0) {
        const node = ready.pop() as Node;
        const gradOutputs = buffers.get(node) ?? new Array<Tensor | null>(node.numOutputs).fill(null);
        buffers.delete(node);
        inFlight = gradOutputs;
        const hasGrad = gradOutputs.some((g) => g !== null);
        const gradInputs = hasGrad ? node.apply(gradOutputs) : [];
        for (const g of gradInputs) if (g) refs.hold(g);
        for (const g of gradOutputs) if (g) refs.drop(g);
        inFlight = [];
        node.inputs.forEach((input, i) => {
          const g = gradInputs[i] ?? null;
          if (input !== null && g !== null) {
            if (input.gradFn === null) {
              if (input.requiresGrad) accumulateLeaf(input, g);
            } else {
              if (input.retainsGrad) accumulateLeaf(input, g);
              put(input.gradFn, input.outputIndex, g);
            }
          }
          const next = input?.gradFn;
          if (next) {
            const left = (deps.get(next) as number) - 1;
            deps.set(next, left);
            if (left === 0) ready.push(next);
          }
        });
        for (const g of gradInputs) if (g) refs.drop(g);
        if (!retainGraph) node.release();
      }
    } catch (err) {
      // A failed pass (graph already freed, stale saved tensor) must not leak
      // the gradients buffered so far.
      for (const g of inFlight) if (g) refs.drop(g);
      for (const slots of buffers.values()) for (const g of slots) if (g) refs.drop(g);
      throw err;
    }
  });
}

export function checkBackwardRoot(root: Tensor, gradient: Tensor | undefined): void {
  if (!root.requiresGrad) {
    throw new CodedError('element 0 of tensors does not require grad and does not have a grad_fn', 'ERR_CUDNN_RNN_NO_GRAD');
  }
  if (gradient === undefined && root.numel !== 1) {
    throw new CodedError('grad can be implicitly created only for scalar outputs', 'ERR_CUDNN_RNN_NON_SCALAR');
  }
}
