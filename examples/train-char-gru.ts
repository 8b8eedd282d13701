// `npm run example -- [files or folders...] [--epochs N] [--minutes M] ...`
// Trains a character-level GRU language model on text files (by default the
// package's own TypeScript sources and README), on the default device. Shows a
// progress bar, evaluates held-out loss every epoch against the unigram
// baseline, writes a safetensors checkpoint, a loss curve (SVG) and samples.
// With --distributed, under `mpirun -np N`, every process trains a replica on
// its own batches through nn.parallel.DistributedDataParallel (gradients
// averaged after each backward); rank 0 prints and saves the checkpoint.
import * as fs from 'fs';
import * as path from 'path';
import {
  distributed, getDefaultDevice, load, manualSeed, nn, noGrad, optim, save, tensor, tidy, Tensor,
} from 'cudnn-rnn';
import { CharGRU, CharModelConfig } from './char-model';
import { lossCurveSvg } from './loss-curve';
import { ProgressBar } from './progress';

interface Options {
  inputs: string[];
  epochs: number;
  minutes: number;
  stepsPerEpoch: number;
  seqLen: number;
  batch: number;
  embed: number;
  hidden: number;
  layers: number;
  lr: number;
  out: string;
  seed: number;
  sample: number;
  /** Under mpirun: one replica per process (DistributedDataParallel over MPI). */
  distributed?: boolean;
}

const USAGE = `usage: npm run example -- [paths...] [--epochs 4] [--minutes 4.5] [--steps-per-epoch 0 (auto)]
  [--seq 64] [--batch 32] [--embed 64] [--hidden 256] [--layers 1] [--lr 0.003] [--out char-gru-out]
  [--seed 0] [--sample 400] [--distributed (under mpirun -np N)]`;

function parseOptions(argv: string[]): Options {
  const root = path.resolve(__dirname, '..', '..');
  const o: Options = {
    inputs: [], epochs: 4, minutes: 4.5, stepsPerEpoch: 0, seqLen: 64, batch: 32, embed: 64, hidden: 256,
    layers: 1, lr: 3e-3, out: 'char-gru-out', seed: 0, sample: 400,
  };
  const numeric: Record<string, keyof Options> = {
    '--epochs': 'epochs', '--minutes': 'minutes', '--steps-per-epoch': 'stepsPerEpoch', '--seq': 'seqLen',
    '--batch': 'batch', '--embed': 'embed', '--hidden': 'hidden', '--layers': 'layers', '--lr': 'lr',
    '--seed': 'seed', '--sample': 'sample',
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--distributed') {
      o.distributed = true;
    } else if (a === '--out') {
      o.out = argv[++i];
    } else if (a in numeric) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${a} expects a non-negative number, got ${argv[i]}`);
      (o as unknown as Record<string, number>)[numeric[a]] = v;
    } else if (a.startsWith('--')) {
      throw new RangeError(`unknown option ${a}\n${USAGE}`);
    } else {
      o.inputs.push(a);
    }
  }
  if (o.inputs.length === 0) o.inputs = [path.join(root, 'lib'), path.join(root, 'README.md')];
  return o;
}

/** Text of every file under the given paths (folders: .ts/.js/.md/.txt files, sorted). */
function readCorpus(inputs: string[]): { text: string; files: number } {
  const files: string[] = [];
  const walk = (p: string): void => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name));
    } else if (inputs.includes(p) || /\.(ts|js|md|txt)$/.test(p)) {
      files.push(p);
    }
  };
  for (const p of inputs) {
    if (!fs.existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    walk(p);
  }
  const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n\n');
  if (text.length < 1000) throw new Error(`the corpus is too small (${text.length} characters); give more text`);
  return { text, files: files.length };
}

/** Cross-entropy (nats/char) of the held-out text under the training text's character frequencies. */
function unigramBaseline(train: Int32Array, heldOut: Int32Array, vocab: number): number {
  const counts = new Float64Array(vocab).fill(1);  // add-one smoothing: unseen characters keep a finite cost
  for (const c of train) counts[c] += 1;
  const total = train.length + vocab;
  let nll = 0;
  for (const c of heldOut) nll -= Math.log(counts[c] / total);
  return nll / heldOut.length;
}

/** A batch of random windows: inputs (N, T) and next-character targets (N, T). */
function randomBatch(data: Int32Array, batch: number, seqLen: number, rng: () => number): [Tensor, Tensor] {
  const x = new Int32Array(batch * seqLen);
  const y = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; ++b) {
    const start = Math.floor(rng() * (data.length - seqLen - 1));
    x.set(data.subarray(start, start + seqLen), b * seqLen);
    y.set(data.subarray(start + 1, start + seqLen + 1), b * seqLen);
  }
  return [tensor(x, { shape: [batch, seqLen], dtype: 'int32' }), tensor(y, { shape: [batch, seqLen], dtype: 'int32' })];
}

/** Mean loss over the held-out text, in consecutive windows carrying the hidden state. */
function heldOutLoss(model: CharGRU, data: Int32Array, seqLen: number): number {
  model.eval();
  const rows = 16;
  const span = Math.floor((data.length - 1) / rows);
  let total = 0;
  let count = 0;
  let h: Tensor | null = null;
  for (let t = 0; t + 1 < span; t += seqLen) {
    const len = Math.min(seqLen, span - 1 - t);
    const x = new Int32Array(rows * len);
    const y = new Int32Array(rows * len);
    for (let r = 0; r < rows; ++r) {
      x.set(data.subarray(r * span + t, r * span + t + len), r * len);
      y.set(data.subarray(r * span + t + 1, r * span + t + 1 + len), r * len);
    }
    const hPrev: Tensor | null = h;
    const [loss, hN] = noGrad(() => tidy(() => {
      const [logits, hOut] = model.forward(tensor(x, { shape: [rows, len], dtype: 'int32' }), hPrev);
      const l = nn.functional.crossEntropy(logits.reshape(-1, model.config.vocab.length), tensor(y, { dtype: 'int32' }), { reduction: 'sum' });
      return [l.item(), hOut] as const;
    }));
    hPrev?.dispose();
    h = hN;
    total += loss;
    count += rows * len;
  }
  h?.dispose();
  model.train();
  return total / count;
}

/** A small deterministic PRNG for window positions (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TrainSummary {
  device: string;
  corpusChars: number;
  vocab: number;
  steps: number;
  seconds: number;
  charsPerSecond: number;
  firstLoss: number;
  lastLoss: number;
  heldOut: number[];
  bestEpoch: number;
  unigramBaseline: number;
  checkpoint: string;
  sample: string;
  /** This process's rank and the number of processes (1 without --distributed). */
  rank: number;
  worldSize: number;
}

export async function train(options: Options): Promise<TrainSummary> {
  if (options.distributed && !distributed.isInitialized()) distributed.initProcessGroup({ backend: 'mpi' });
  const rank = options.distributed ? distributed.getRank() : 0;
  const worldSize = options.distributed ? distributed.getWorldSize() : 1;
  const log = rank === 0 ? console.log : () => undefined;
  manualSeed(options.seed);
  // Each rank draws its own batches (and dropout masks, seeded below).
  const rng = mulberry32(options.seed + 1 + rank);
  const { text, files } = readCorpus(options.inputs);
  const vocab = [...new Set(Array.from(text))].sort();
  const config: CharModelConfig = { vocab, embed: options.embed, hidden: options.hidden, layers: options.layers, dropout: 0.25 };
  const model = new CharGRU(config);
  // Every replica starts from rank 0's weights; gradients are averaged after each backward().
  const net = options.distributed ? new nn.parallel.DistributedDataParallel(model) : model;
  if (rank > 0) manualSeed(options.seed + rank);
  const codes = model.encode(text);
  const split = Math.floor(codes.length * 0.9);
  const trainData = codes.subarray(0, split);
  const heldOutData = codes.subarray(split);
  const baseline = unigramBaseline(trainData, heldOutData, vocab.length);
  const device = getDefaultDevice().type;
  const params = model.parameters().reduce((n, p) => n + p.numel, 0);
  log(`corpus: ${text.length} characters from ${files} file(s), vocabulary ${vocab.length}; held out ${heldOutData.length}`);
  log(`model: ${model.toString().replace(/\n\s*/g, ' ')}, ${params} parameters, device ${device}${worldSize > 1 ? `, ${worldSize} processes (DistributedDataParallel over MPI)` : ''}`);
  log(`unigram baseline (held out): ${baseline.toFixed(3)} nats/char`);

  const opt = new optim.Adam(model.parameters(), { lr: options.lr });
  // Halving the rate each epoch lets later epochs refine instead of overshooting.
  const schedule = new optim.lrScheduler.StepLR(opt, { stepSize: 1, gamma: 0.5 });
  if (rank === 0) fs.mkdirSync(options.out, { recursive: true });
  const checkpoint = path.join(options.out, 'model.safetensors');
  const metadata = { format: 'cudnn-rnn/char-gru', config: JSON.stringify(config) };
  let bestHeldOut = Infinity;
  let bestEpoch = 0;
  const budgetMs = options.minutes * 60_000;
  const started = Date.now();
  const trainLosses: number[] = [];
  const heldOut: number[] = [];
  let steps = 0;
  const stepsPerEpoch = options.stepsPerEpoch;
  // Characters per step over all processes.
  const charsPerStep = options.batch * options.seqLen * worldSize;

  for (let epoch = 1; epoch <= options.epochs; ++epoch) {
    const bar = rank === 0 ? new ProgressBar(`epoch ${epoch}/${options.epochs}`, device) : null;
    const epochStart = Date.now();
    let stepInEpoch = 0;
    for (;;) {
      const elapsedEpoch = Date.now() - epochStart;
      // Without a fixed step count, each epoch gets an equal share of the time budget.
      const epochBudget = (budgetMs - (epochStart - started)) / (options.epochs - epoch + 1);
      let stop = stepsPerEpoch > 0 ? stepInEpoch >= stepsPerEpoch : elapsedEpoch >= epochBudget;
      // Under a time budget the ranks must agree to stop on the same step,
      // or one would wait in an all-reduce that the others never join.
      if (worldSize > 1 && stepsPerEpoch === 0) stop = distributed.allReduce(tensor([stop ? 1 : 0], { dtype: 'int32' }), { op: 'max' }).item() === 1;
      if (stop) break;
      const loss = tidy(() => {
        const [x, y] = randomBatch(trainData, options.batch, options.seqLen, rng);
        opt.zeroGrad();
        const [logits] = net.forward(x);
        const l = nn.functional.crossEntropy(logits.reshape(-1, vocab.length), y.reshape(-1));
        l.backward();
        nn.utils.clipGradNorm_(model.parameters(), 1.0);
        opt.step();
        return l.item();
      });
      trainLosses.push(loss);
      steps += 1;
      stepInEpoch += 1;
      const fraction = stepsPerEpoch > 0 ? stepInEpoch / stepsPerEpoch : Math.min(1, (Date.now() - epochStart) / epochBudget);
      bar?.update(fraction, loss, (stepInEpoch * charsPerStep) / ((Date.now() - epochStart) / 1000));
    }
    const h = heldOutLoss(model, heldOutData, options.seqLen);
    heldOut.push(h);
    schedule.step();
    // The checkpoint keeps the epoch that generalises best, not merely the last.
    const improved = h < bestHeldOut;
    if (improved) {
      bestHeldOut = h;
      bestEpoch = epoch;
      if (rank === 0) save(model.stateDict(), checkpoint, { metadata: { ...metadata, epoch: String(epoch), heldOutLoss: String(h) } });
    }
    bar?.finish(`held-out ${h.toFixed(3)} (unigram ${baseline.toFixed(3)})${improved ? ', checkpoint saved' : ''}`);
  }
  const seconds = (Date.now() - started) / 1000;

  let sample = '';
  if (rank === 0) {
    fs.writeFileSync(path.join(options.out, 'loss.svg'), lossCurveSvg(trainLosses, heldOut, baseline));
    // Sample from the checkpointed (best) weights.
    const best = load(checkpoint);
    model.loadStateDict(best);
    for (const t of Object.values(best)) t.dispose();
    sample = options.sample > 0 ? await model.generate('export function ', options.sample, 0.8) : '';
  }
  const summary: TrainSummary = {
    device, corpusChars: text.length, vocab: vocab.length, steps, seconds,
    charsPerSecond: (steps * charsPerStep) / seconds,
    firstLoss: trainLosses[0], lastLoss: mean(trainLosses.slice(-Math.max(1, Math.floor(trainLosses.length / 10)))),
    heldOut, bestEpoch, unigramBaseline: baseline, checkpoint, sample, rank, worldSize,
  };
  if (rank === 0) fs.writeFileSync(path.join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  opt.dispose();
  net.dispose();
  return summary;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const s = await train(options);
  if (s.rank !== 0) return;
  const procs = s.worldSize > 1 ? ` x ${s.worldSize} processes` : '';
  console.log(`\n${s.steps} steps in ${s.seconds.toFixed(0)} s (${Math.round(s.charsPerSecond)} chars/s) on ${s.device}${procs}`);
  console.log(`train loss ${s.firstLoss.toFixed(3)} -> ${s.lastLoss.toFixed(3)}; held-out ${s.heldOut.map((h) => h.toFixed(3)).join(' -> ')}; unigram baseline ${s.unigramBaseline.toFixed(3)} nats/char`);
  console.log(`checkpoint ${s.checkpoint} (epoch ${s.bestEpoch}, the best held-out loss), loss curve ${path.join(path.dirname(s.checkpoint), 'loss.svg')}`);
  if (s.sample) console.log(`\nsample (temperature 0.8):\nexport function ${s.sample}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
