// nn.Embedding: a lookup table of vectors, torch.nn.Embedding's arguments,
// N(0, 1) initialisation (bit for bit under manualSeed), padding_idx and repr.
import { noGrad } from '../autograd/grad-mode';
import { getDefaultDevice, resolveDevice } from '../backend';
import { FloatDType, isFloatDType } from '../dtype';
import { checkBoolean, checkInteger, checkOptionKeys, formatShape, typeError } from '../errors';
import { checkTensor, Tensor } from '../tensor';
import { embedding, normalizePaddingIdx } from './functional';
import { Module } from './module';

export interface EmbeddingOptions {
  /** Row whose vector stays out of training: zeroed at init, never receives a gradient. Negative counts from the end. */
  paddingIdx?: number | null;
  device?: string;
  dtype?: FloatDType;
}

export interface FromPretrainedOptions {
  /** Keep the table fixed (requiresGrad false), default true. */
  freeze?: boolean;
  paddingIdx?: number | null;
}

/** Hidden constructor option of fromPretrained (a symbol, so checkOptionKeys does not see it). */
const PRETRAINED = Symbol('pretrained');

/** Maps int32 indices of any shape to rows of `weight`: (...) -> (..., embeddingDim). */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  /** (numEmbeddings, embeddingDim) */
  declare readonly weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = checkInteger('Embedding', 'numEmbeddings', numEmbeddings, 0);
    this.embeddingDim = checkInteger('Embedding', 'embeddingDim', embeddingDim, 0);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError('Embedding', 'options', 'an object', options);
    checkOptionKeys('Embedding', options, ['paddingIdx', 'device', 'dtype']);
    this.paddingIdx = normalizePaddingIdx('Embedding', options.paddingIdx, this.numEmbeddings);
    const pretrained = (options as { [PRETRAINED]?: Tensor })[PRETRAINED];
    if (pretrained !== undefined) {
      this.registerParameter('weight', pretrained);
      return;
    }
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw typeError('Embedding', 'options.dtype', "'float32' or 'float64'", dtype);
    const device = options.device === undefined ? getDefaultDevice() : resolveDevice('Embedding', options.device);
    this.registerParameter('weight', Tensor.empty([this.numEmbeddings, this.embeddingDim], dtype, device));
    this.resetParameters();
  }

  /**
   * A table initialised from `embeddings` (numEmbeddings, embeddingDim),
   * sharing its memory like torch's from_pretrained; the padding row is kept as given.
   */
  static fromPretrained(embeddings: Tensor, options: FromPretrainedOptions = {}): Embedding {
    const e = checkTensor('Embedding.fromPretrained', 'embeddings', embeddings);
    if (e.ndim !== 2) throw new RangeError(`Embeddings parameter is expected to be 2-dimensional (got shape ${formatShape(e.shape)})`);
    if (!isFloatDType(e.dtype)) throw new TypeError(`Embedding.fromPretrained: expected embeddings to be a floating point tensor, but got ${e.dtype}`);
    if (typeof options !== 'object' || options === null) throw typeError('Embedding.fromPretrained', 'options', 'an object', options);
    checkOptionKeys('Embedding.fromPretrained', options, ['freeze', 'paddingIdx']);
    const freeze = checkBoolean('Embedding.fromPretrained', 'options.freeze', options.freeze ?? true);
    const weight = e.detach();
    const m = new Embedding(e.shape[0], e.shape[1], { paddingIdx: options.paddingIdx, [PRETRAINED]: weight } as EmbeddingOptions);
    weight.requiresGrad = !freeze;
    return m;
  }

  /** PyTorch's reset_parameters: weight ~ N(0, 1), then the padding row zeroed. */
  resetParameters(): void {
    noGrad(() => {
      this.weight.normal_(0, 1);
      if (this.paddingIdx !== null) {
        const row = this.weight.select(0, this.paddingIdx);
        row.fill_(0);
        row.dispose();
      }
    });
  }

  get dtype(): FloatDType {
    return this.weight.dtype as FloatDType;
  }

  get device(): string {
    return this.weight.device;
  }

  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw typeError('Embedding.forward', 'input', 'an int32 Tensor of indices', input);
    return embedding(input, this.weight, this.paddingIdx);
  }

  protected override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    return s;
  }
}

