// `npm run example:classify -- [--steps N] [--minutes M] [--batch B] ...`
// Classifies single lines of this package's own files by kind (TypeScript,
// C++/CUDA, Python, Markdown, JSON, shell) with a bidirectional LSTM over
// packed batches: each batch of lines of different lengths is packed
// (packPaddedSequence, enforceSorted false), so the LSTM's cost follows the
// lines' real lengths. Files are split into training and held-out sets (no
// held-out line shares a file with a training line); prints the held-out
// accuracy beside the majority-class baseline.
import * as fs from 'fs';
import * as path from 'path';
import { cat, getDefaultDevice, manualSeed, nn, noGrad, optim, tensor, tidy, Tensor } from 'cudnn-rnn';
import { ProgressBar } from './progress';

export const KINDS = ['TypeScript', 'C++/CUDA', 'Python', 'Markdown', 'JSON', 'shell'] as const;
const EXTENSIONS: Array<[RegExp, number]> = [
  [/\.ts$/, 0], [/\.(cc|h|cu|cuh)$/, 1], [/\.py$/, 2], [/\.md$/, 3], [/\.json$/, 4], [/\.sh$/, 5],
];
const MAX_CHARS = 80;          // a line is cut to its first 80 characters
const MAX_LINES_PER_FILE = 400; // big generated files (fixtures) do not swamp their class
const SKIP_DIRS = new Set(['node_modules', 'build', 'dist', 'prebuilds', '.git', 'coverage']);

export interface ClassifyOptions {
  root: string;
  steps: number;
  minutes: number;
  batch: number;
  embed: number;
  hidden: number;
  lr: number;
  seed: number;
  /** Every how many files of a kind (sorted by path) one goes to the held-out set. */
  holdEvery: number;
}

export interface ClassifySummary {
  steps: number;
  seconds: number;
  device: string;
  trainLines: number;
  heldOutLines: number;
  heldOutFiles: number;
  losses: number[];
  firstLoss: number;
  lastLoss: number;
  accuracy: number;
  majorityBaseline: number;
  majorityKind: string;
  perKind: Record<string, { lines: number; accuracy: number }>;
}

interface Line {
  codes: number[];
  kind: number;
}

function kindOf(file: string): number {
  for (const [re, k] of EXTENSIONS) if (re.test(file)) return k;
  return -1;
}

/** Files of a known kind under root, sorted. */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
      const p = path.join(dir, name);
      const st = fs.statSync(p);
      if (st.isDirectory()) walk(p);
      else if (kindOf(p) >= 0 && st.size < 4 << 20) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Non-blank lines as byte codes (0..127, anything else 127), cut to MAX_CHARS. */
function readLines(file: string, kind: number): Line[] {
  const lines: Line[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const text = raw.trim().slice(0, MAX_CHARS);
    if (text.length < 2) continue;
    lines.push({ codes: Array.from(text, (ch) => Math.min(ch.charCodeAt(0), 127)), kind });
    if (lines.length >= MAX_LINES_PER_FILE) break;
  }
  return lines;
}

/** Training and held-out lines, split by file: every holdEvery-th file of each kind is held out. */
export function loadCorpus(root: string, holdEvery: number): { train: Line[]; heldOut: Line[]; heldOutFiles: number; files: { train: string[]; heldOut: string[] } } {
  const byKind: string[][] = KINDS.map(() => []);
  for (const f of listFiles(root)) byKind[kindOf(f)].push(f);
  const train: Line[] = [];
  const heldOut: Line[] = [];
  let heldOutFiles = 0;
  const split = { train: [] as string[], heldOut: [] as string[] };
  byKind.forEach((files, kind) => {
    files.forEach((f, i) => {
      // The second file of each kind (and every holdEvery-th after it) is held out,
      // so a kind with two files has one on each side.
      const held = files.length > 1 && i % holdEvery === 1 % holdEvery;
      if (held) heldOutFiles += 1;
      (held ? split.heldOut : split.train).push(f);
      (held ? heldOut : train).push(...readLines(f, kind));
    });
  });
  return { train, heldOut, heldOutFiles, files: split };
}

/** Embedding -> bidirectional LSTM over the packed lines -> both final states -> kinds. */
export class LineClassifier extends nn.Module {
  readonly embed: nn.Embedding;
  readonly lstm: nn.LSTM;
  readonly head: nn.Linear;

  constructor(embed: number, hidden: number, device: string) {
    super();
    this.embed = this.registerModule('embed', new nn.Embedding(128, embed, { device }));
    this.lstm = this.registerModule('lstm', new nn.LSTM(embed, hidden, { bidirectional: true, batchFirst: true, device }));
    this.head = this.registerModule('head', new nn.Linear(2 * hidden, KINDS.length, { device }));
  }

  /** Logits (B, kinds) for a batch of lines of any lengths. */
  forward(lines: Line[]): Tensor {
    const device = this.head.weight.device;
    const T = Math.max(...lines.map((l) => l.codes.length));
    const padded = new Int32Array(lines.length * T);
    lines.forEach((l, b) => padded.set(l.codes, b * T));
    const codes = tensor(padded, { shape: [lines.length, T], dtype: 'int32', device });
    const packed = nn.utils.rnn.packPaddedSequence(this.embed.forward(codes), lines.map((l) => l.codes.length),
      { batchFirst: true, enforceSorted: false });
    // hN: (2, B, hidden) in the batch's own order, each line's state at its own end.
    const [, [hN]] = this.lstm.forward(packed);
    return this.head.forward(cat([hN.select(0, 0), hN.select(0, 1)], 1));
  }
}

function argmaxRows(logits: Tensor): number[] {
  const [n, k] = logits.shape;
  const v = logits.dataSync();
  const out: number[] = [];
  for (let i = 0; i < n; ++i) {
    let best = 0;
    for (let j = 1; j < k; ++j) if (v[i * k + j] > v[i * k + best]) best = j;
    out.push(best);
  }
  return out;
}

export async function classify(options: ClassifyOptions): Promise<ClassifySummary> {
  manualSeed(options.seed);
  const dev = getDefaultDevice();
  const device = dev.type === 'cuda' ? `cuda:${dev.index}` : 'cpu';
  const { train, heldOut, heldOutFiles } = loadCorpus(options.root, options.holdEvery);
  if (train.length === 0 || heldOut.length === 0) throw new Error(`no lines to train on or to hold out under ${options.root}`);
  const model = new LineClassifier(options.embed, options.hidden, device);
  const opt = new optim.Adam(model.parameters(), { lr: options.lr });
  // A small deterministic generator for the batches (the library's seeds the weights).
  let state = (options.seed + 1) >>> 0;
  const rand = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const losses: number[] = [];
  const bar = new ProgressBar('classify', device);
  const start = Date.now();
  let chars = 0;
  let step = 0;
  for (; step < options.steps; ++step) {
    if ((Date.now() - start) / 60000 > options.minutes) break;
    const batch = Array.from({ length: options.batch }, () => train[Math.floor(rand() * train.length)]);
    chars += batch.reduce((s, l) => s + l.codes.length, 0);
    const loss = tidy(() => {
      opt.zeroGrad();
      const logits = model.forward(batch);
      const target = tensor(Int32Array.from(batch.map((l) => l.kind)), { dtype: 'int32', device });
      const l = nn.functional.crossEntropy(logits, target);
      l.backward();
      opt.step();
      return l.item();
    });
    losses.push(loss);
    const recent = losses.slice(-20);
    bar.update((step + 1) / options.steps, recent.reduce((a, b) => a + b, 0) / recent.length, chars / ((Date.now() - start) / 1000));
  }
  bar.finish(`${step} steps`);

  // Held-out accuracy, in batches, beside always answering the most common kind.
  model.eval();
  const counts = KINDS.map(() => 0);
  const right = KINDS.map(() => 0);
  for (let i = 0; i < heldOut.length; i += 256) {
    const chunk = heldOut.slice(i, i + 256);
    const predicted = noGrad(() => tidy(() => argmaxRows(model.forward(chunk))));
    chunk.forEach((l, j) => {
      counts[l.kind] += 1;
      if (predicted[j] === l.kind) right[l.kind] += 1;
    });
  }
  const majority = counts.indexOf(Math.max(...counts));
  const perKind: Record<string, { lines: number; accuracy: number }> = {};
  KINDS.forEach((k, i) => { perKind[k] = { lines: counts[i], accuracy: counts[i] ? right[i] / counts[i] : NaN }; });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const window = Math.max(1, Math.min(20, Math.floor(losses.length / 4)));
  const summary: ClassifySummary = {
    steps: step,
    seconds: (Date.now() - start) / 1000,
    device,
    trainLines: train.length,
    heldOutLines: heldOut.length,
    heldOutFiles,
    losses,
    firstLoss: mean(losses.slice(0, window)),
    lastLoss: mean(losses.slice(-window)),
    accuracy: right.reduce((a, b) => a + b, 0) / heldOut.length,
    majorityBaseline: counts[majority] / heldOut.length,
    majorityKind: KINDS[majority],
    perKind,
  };
  opt.dispose();
  model.dispose();
  return summary;
}

const USAGE = `usage: npm run example:classify -- [--steps 600] [--minutes 4] [--batch 64] [--embed 32] [--hidden 96]
  [--lr 0.003] [--seed 0] [--hold-every 4] [--root <package root>]`;

function parseOptions(argv: string[]): ClassifyOptions {
  const o: ClassifyOptions = {
    root: path.resolve(__dirname, '..', '..'), steps: 600, minutes: 4, batch: 64, embed: 32, hidden: 96, lr: 3e-3, seed: 0, holdEvery: 4,
  };
  const numeric: Record<string, keyof ClassifyOptions> = {
    '--steps': 'steps', '--minutes': 'minutes', '--batch': 'batch', '--embed': 'embed', '--hidden': 'hidden', '--lr': 'lr',
    '--seed': 'seed', '--hold-every': 'holdEvery',
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--root') {
      o.root = path.resolve(argv[++i]);
    } else if (a in numeric) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${a} expects a positive number, got ${argv[i]}`);
      (o as unknown as Record<string, number>)[numeric[a]] = v;
    } else {
      throw new RangeError(`unknown option ${a}\n${USAGE}`);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const s = await classify(parseOptions(process.argv.slice(2)));
  console.log(`\n${s.steps} steps in ${s.seconds.toFixed(0)} s on ${s.device}; ${s.trainLines} training lines, ${s.heldOutLines} held-out lines from ${s.heldOutFiles} held-out files`);
  console.log(`train loss ${s.firstLoss.toFixed(3)} -> ${s.lastLoss.toFixed(3)}`);
  console.log(`held-out accuracy ${(100 * s.accuracy).toFixed(1)}%  (majority-class baseline ${(100 * s.majorityBaseline).toFixed(1)}%: always "${s.majorityKind}")`);
  for (const [k, v] of Object.entries(s.perKind)) console.log(`  ${k.padEnd(11)} ${String(v.lines).padStart(6)} lines  ${Number.isNaN(v.accuracy) ? '-' : `${(100 * v.accuracy).toFixed(1)}%`}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
