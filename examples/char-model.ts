// The character-level language model shared by the trainer and the service:
// Embedding -> GRU -> Linear over a vocabulary of characters.
import { nn, Tensor, tensor, noGrad, tidy, rand } from 'cudnn-rnn';

export interface CharModelConfig {
  vocab: string[];
  embed: number;
  hidden: number;
  layers: number;
  dropout: number;
}

export class CharGRU extends nn.Module {
  readonly config: CharModelConfig;
  readonly embed: nn.Embedding;
  readonly gru: nn.GRU;
  readonly drop: nn.Dropout;
  readonly head: nn.Linear;
  private readonly index: Map<string, number>;

  constructor(config: CharModelConfig, device?: string) {
    super();
    this.config = config;
    const v = config.vocab.length;
    this.embed = this.registerModule('embed', new nn.Embedding(v, config.embed, { device }));
    this.gru = this.registerModule('gru', new nn.GRU(config.embed, config.hidden, {
      numLayers: config.layers, dropout: config.layers > 1 ? config.dropout : 0, batchFirst: true, device,
    }));
    // Dropout on the GRU's output (only in training) keeps a small corpus from being memorised.
    this.drop = this.registerModule('drop', new nn.Dropout(config.dropout));
    this.head = this.registerModule('head', new nn.Linear(config.hidden, v, { device }));
    this.index = new Map(config.vocab.map((c, i) => [c, i]));
  }

  /** codes (N, T) int32 -> [logits (N, T, V), hN]. */
  forward(codes: Tensor, h?: Tensor | null): [Tensor, Tensor] {
    const [out, hN] = this.gru.forward(this.embed.forward(codes), h);
    return [this.head.forward(this.drop.forward(out)), hN];
  }

  /**
   * One inference step with the GRU on a worker thread, so a server keeps
   * answering meanwhile. Nothing is recorded for autograd: noGrad covers the
   * synchronous parts, and the GRU decides at call time that it needs no graph.
   */
  async stepAsync(codes: Tensor, h: Tensor | null): Promise<[Tensor, Tensor]> {
    const e = noGrad(() => this.embed.forward(codes));
    const [out, hN] = await noGrad(() => this.gru.forwardAsync(e, h));
    e.dispose();
    const logits = noGrad(() => this.head.forward(out));
    out.dispose();
    return [logits, hN];
  }

  /** Character codes of `text`; unknown characters map to the first symbol. */
  encode(text: string): Int32Array {
    const chars = Array.from(text);
    return Int32Array.from(chars, (c) => this.index.get(c) ?? 0);
  }

  /**
   * Continues `prompt` by `length` characters, sampling at `temperature`
   * (0 = greedy). Each step awaits the GRU on a worker thread.
   */
  async generate(prompt: string, length: number, temperature: number): Promise<string> {
    const seed = prompt.length > 0 ? this.encode(prompt) : Int32Array.of(0);
    let h: Tensor | null = null;
    let out = '';
    const wasTraining = this.training;
    this.eval();
    try {
      let codes = tensor(seed, { shape: [1, seed.length], dtype: 'int32' });
      for (let i = 0; i < length; ++i) {
        const [logits, hN] = await this.stepAsync(codes, h);
        codes.dispose();
        h?.dispose();
        h = hN;
        const next = sampleLast(logits, temperature);
        logits.dispose();
        out += this.config.vocab[next];
        codes = tensor(Int32Array.of(next), { shape: [1, 1], dtype: 'int32' });
      }
      codes.dispose();
    } finally {
      h?.dispose();
      this.train(wasTraining);
    }
    return out;
  }
}

/** Temperatures below this sample greedily (argmax). */
export const GREEDY_TEMPERATURE = 1e-5;

/** Samples a class from the last time step's logits (1, T, V); greedy below GREEDY_TEMPERATURE. */
export function sampleLast(logits: Tensor, temperature: number): number {
  return tidy(() => {
    const t = logits.shape[1];
    const last = logits.select(0, 0).select(0, t - 1);
    // Below this, logits / temperature overflows float32 (1e-320 is 0 there):
    // softmax would be NaN. Like other samplers, treat it as greedy decoding.
    if (temperature < GREEDY_TEMPERATURE) return last.argmax().item();
    const probs = last.div(temperature).softmax(0).dataSync();
    let u = rand([1], { dtype: 'float64' }).item();
    for (let i = 0; i < probs.length; ++i) {
      u -= probs[i];
      if (u <= 0) return i;
    }
    return probs.length - 1;
  });
}
