// The second example job on short settings: a bidirectional LSTM over packed
// batches of lines of this package's own files learns their kind; the loss
// falls and the held-out accuracy (files never seen in training) beats the
// majority-class baseline.
import * as path from 'path';
import { classify, ClassifySummary, loadCorpus } from '../examples/classify-lines';

let summary: ClassifySummary;
const root = path.join(__dirname, '..');

beforeAll(async () => {
  summary = await classify({ root, steps: 150, minutes: 3, batch: 32, embed: 32, hidden: 64, lr: 3e-3, seed: 0, holdEvery: 4 });
}, 180_000);

test('the split is by file: no held-out line comes from a training file', () => {
  const { train, heldOut, heldOutFiles, files } = loadCorpus(root, 4);
  expect(train.length).toBeGreaterThan(1000);
  expect(heldOut.length).toBeGreaterThan(100);
  expect(heldOutFiles).toBe(files.heldOut.length);
  expect(files.heldOut.filter((f) => files.train.includes(f))).toEqual([]);
  expect(files.train.some((f) => f.endsWith('.ts')) && files.heldOut.some((f) => f.endsWith('.ts'))).toBe(true);
});

test('training lowers the loss and the held-out accuracy beats the majority class', () => {
  expect(summary.steps).toBe(150);
  expect(summary.lastLoss).toBeLessThan(summary.firstLoss - 0.2);
  expect(summary.accuracy).toBeGreaterThan(summary.majorityBaseline);
  expect(summary.heldOutLines).toBe(Object.values(summary.perKind).reduce((s, k) => s + k.lines, 0));
});
