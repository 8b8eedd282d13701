// A recorded operation: its inputs and how to turn output gradients into
// input gradients (DESIGN.md decision 4: autograd lives in TypeScript).
import { CodedError } from '../errors';
import type { Tensor } from '../tensor';

export type BackwardFn = (gradOutputs: Array<Tensor | null>) => Array<Tensor | null>;

const FREED_MESSAGE =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
  'Saved intermediate values of the graph are freed when you call .backward(). ' +
  'Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

/** A tensor saved for backward, with the storage version it had when saved. */
export class SavedTensor {
  private tensor: Tensor | null;
  private readonly version: number;
  private readonly opName: string;

  constructor(tensor: Tensor, opName: string) {
    this.tensor = tensor;
    this.version = tensor._storage.version;
    this.opName = opName;
  }

  unpack(): Tensor {
    const t = this.tensor;
    if (t === null) throw new CodedError(FREED_MESSAGE, 'ERR_CUDNN_RNN_GRAPH_FREED');
    if (t.isDisposed) {
      throw new CodedError(
        `a tensor saved by ${this.opName} for the backward pass was disposed; keep tensors alive until backward() has run (do the backward inside the same tidy())`,
        'ERR_CUDNN_RNN_DISPOSED');
    }
    if (t._storage.version !== this.version) {
      throw new CodedError(
        `one of the variables needed for gradient computation has been modified by an inplace operation: [${t.dtype} ${JSON.stringify(t.shape)}], which is input to ${this.opName}, is at version ${t._storage.version}; expected version ${this.version} instead.`,
        'ERR_CUDNN_RNN_INPLACE');
    }
    return t;
  }

  release(): void {
    this.tensor = null;
  }
}

export class Node {
  /** PyTorch's name for the backward node, e.g. AddBackward0. */
  readonly name: string;
  /** Inputs that need a gradient, null where an input needs none. */
  readonly inputs: Array<Tensor | null>;
  /** How many tensors the forward produced (RNN forward: output and hN). */
  readonly numOutputs: number;
  private backwardFn: BackwardFn | null;
  private saved: SavedTensor[];
  /** Internal buffers only backward uses (the RNN reserve): disposed on release. */
  private owned: Tensor[];
  private released = false;

  constructor(name: string, inputs: Array<Tensor | null>, backward: BackwardFn,
    options: { saved?: SavedTensor[]; numOutputs?: number; owned?: Tensor[] } = {}) {
    this.name = name;
    this.inputs = inputs;
    this.backwardFn = backward;
    this.saved = options.saved ?? [];
    this.numOutputs = options.numOutputs ?? 1;
    this.owned = options.owned ?? [];
  }

  apply(gradOutputs: Array<Tensor | null>): Array<Tensor | null> {
    if (this.released || this.backwardFn === null) throw new CodedError(FREED_MESSAGE, 'ERR_CUDNN_RNN_GRAPH_FREED');
    // Backward closures read their inputs directly; check them here, once, for
    // disposal and in-place modification since the forward.
    for (const s of this.saved) s.unpack();
    return this.backwardFn(gradOutputs);
  }

  /** Frees what backward needed (called after backward unless retainGraph). */
  release(): void {
    this.released = true;
    this.backwardFn = null;
    for (const s of this.saved) s.release();
    this.saved = [];
    for (const t of this.owned) t.dispose();
    this.owned = [];
  }
}
